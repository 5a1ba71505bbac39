import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';
import { getUserAsOf, type AsOf } from '../read-model/queries.js';
import type { UserView } from '../user-view.js';

/**
 * `user(id:, asOf:)`: one point in a user's history. A `@oneOf` input, so
 * GraphQL itself refuses none or several fields: in the document as a
 * validation error, in variables as BAD_USER_INPUT.
 */
export const UserAsOfInput = builder.inputType('UserAsOf', {
  isOneOf: true,
  description: 'One point in a user’s history: exactly one of `version`, `position` or `time`.',
  fields: (t) => ({
    version: t.int({ description: 'The user at this version (1 is as created); null before it, or past the user’s latest version.' }),
    position: t.string({
      description:
        'The user after their events up to this position in the log (a `position` from an event or a mutation result; "0" is the start); null if created after it.',
    }),
    time: t.field({
      type: 'DateTime',
      description: 'The user after their events that occurred up to this time; null if created after it.',
    }),
  }),
});

type AsOfInput = Readonly<{ version?: number | null; position?: string | null; time?: Date | null }>;

/** The one field a `@oneOf` input arrives with (GraphQL has checked there is exactly one). */
function asOfOf(input: AsOfInput): AsOf {
  if (input.version != null) return { type: 'version', version: input.version };
  if (input.position != null) return { type: 'position', position: input.position };
  if (input.time != null) return { type: 'time', time: input.time };
  throw badUserInput('"asOf" needs exactly one of version, position or time', 'asOf');
}

/** The user at that point, folded from their events (never from the read model). */
export async function loadUserAsOf(userId: string, input: AsOfInput, ctx: GraphQLContext): Promise<UserView | null> {
  const answer = await ctx.queryBus.execute(getUserAsOf(userId, asOfOf(input)), ctx.scope);
  if (!answer.ok) throw badUserInput(answer.error.message, answer.error.argument);
  return answer.value;
}
