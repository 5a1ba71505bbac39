import type { KeysetPage, KeysetPageRequest } from '../../kernel/keyset-page.js';
import type { Position } from '../../kernel/position.js';
import type { UserView } from '../user-view.js';

/** Bounds are creation positions. */
export type PageRequest = KeysetPageRequest<Position>;

export type UserPage = KeysetPage<UserView>;

/** What the users queries need from a read store; one implementation per store adapter. */
export interface UsersReadModel {
  /** One query however many ids. */
  byIds(ids: readonly string[]): Promise<readonly UserView[]>;
  /** Keyset page in creation order (`readKeysetPage`): an indexed range scan, never an offset. */
  page(request: PageRequest): Promise<UserPage>;
  count(): Promise<number>;
}
