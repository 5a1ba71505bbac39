import { assertNever } from '../kernel/messages.js';

/**
 * Who sent an operation, as far as the API cares. Decided once per request
 * (once per connection for graphql-ws) from a verified bearer token.
 * - `everyone`: authentication is off; the API is open and every rule passes.
 * - `anonymous`: authentication is on and no token came with the request.
 * - `user`: a valid token; `subject` is the user id it names.
 */
export type Viewer =
  | Readonly<{ type: 'everyone' }>
  | Readonly<{ type: 'anonymous' }>
  | Readonly<{ type: 'user'; subject: string; admin: boolean; expiresAt: Date | null }>;

/** May this viewer act as (or see the private fields of) the user with this id? */
export function actsFor(viewer: Viewer, userId: string): boolean {
  return isAdmin(viewer) || (viewer.type === 'user' && viewer.subject === userId);
}

/** May this viewer see everything (the audit feed)? With authentication off, everyone may. */
export function isAdmin(viewer: Viewer): boolean {
  switch (viewer.type) {
    case 'everyone':
      return true;
    case 'anonymous':
      return false;
    case 'user':
      return viewer.admin;
    default:
      return assertNever(viewer, 'viewer');
  }
}

/**
 * Viewers with equal keys see exactly the same fields: everything `actsFor`
 * and the scope rules read is in the key (a token's expiry changes when a
 * viewer is cut off, not what it sees).
 */
export function visibilityKey(viewer: Viewer): string {
  switch (viewer.type) {
    case 'everyone':
    case 'anonymous':
      return viewer.type;
    case 'user':
      return `user:${viewer.subject}:${viewer.admin ? 'admin' : 'member'}`;
    default:
      return assertNever(viewer, 'viewer');
  }
}
