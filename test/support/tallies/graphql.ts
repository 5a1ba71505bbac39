import { builder } from '../../../src/graphql/builder.js';
import type { GraphQLContext } from '../../../src/graphql/context.js';
import { ErrorInterface, StreamUnreadableType, ValidationErrorType, withInputFieldNames } from '../../../src/graphql/errors.js';
import type { CommandOutcome, StreamUnreadable, ValidationRejection } from '../../../src/kernel/command-bus.js';
import { addToTally, openTally, type TallyAlreadyOpen, type TallyNotFound, type TallyRejection } from './decide.js';
import { getTally } from './read-model/queries.js';
import type { TallyView } from './read-model/read-model.js';

type Declared = TallyRejection | ValidationRejection | StreamUnreadable;

/** The rejections a mutation's union declares, named as the client sent them; anything else is a bug, thrown and masked. */
function declaredOnly<T extends Declared['type']>(error: Declared, declared: readonly T[]): Extract<Declared, { type: T }> {
  const renamed = error.type === 'ValidationError' ? withInputFieldNames(error, { tallyId: 'id' }) : error;
  const isDeclared = (e: Declared): e is Extract<Declared, { type: T }> => (declared as readonly string[]).includes(e.type);
  if (!isDeclared(renamed)) throw new Error(`Undeclared rejection ${renamed.type}: ${renamed.message}`);
  return renamed;
}

/** The tally as this write left it (or later): read-your-writes through the query bus. */
async function afterWrite(tallyId: string, outcome: Extract<CommandOutcome, { ok: true }>, ctx: GraphQLContext) {
  const tally = await ctx.queryBus.execute(getTally(tallyId), ctx.scope, { atLeast: outcome.value.position });
  if (tally === null) throw new Error(`Tally ${tallyId} was written but reads as absent`);
  return { tally, position: ctx.positions.formatPosition(outcome.value.position) };
}

/**
 * The tallies module's types and root fields. Everything is defined inside
 * this function, called once per process by `schemaOf` when a list holds the
 * module, so that importing the module leaves the builder, and the schema of
 * lists without it, untouched.
 */
export function defineTalliesGraphQL(): void {
  const TallyType = builder.objectRef<TallyView>('Tally').implement({
    description: 'A running total: the test-only second aggregate.',
    fields: (t) => ({ id: t.exposeID('id'), total: t.exposeInt('total'), version: t.exposeInt('version') }),
  });
  const TallyNotFoundType = builder.objectRef<TallyNotFound>('TallyNotFound').implement({
    interfaces: [ErrorInterface],
    fields: (t) => ({ tallyId: t.exposeID('tallyId') }),
  });
  const TallyAlreadyOpenType = builder.objectRef<TallyAlreadyOpen>('TallyAlreadyOpen').implement({
    interfaces: [ErrorInterface],
    fields: (t) => ({ tallyId: t.exposeID('tallyId') }),
  });
  const successType = <Name extends string>(name: Name) =>
    builder.objectRef<Readonly<{ type: Name; tally: TallyView; position: string }>>(name).implement({
      fields: (t) => ({ tally: t.expose('tally', { type: TallyType }), position: t.exposeString('position') }),
    });
  const OpenTallyResult = builder.unionType('OpenTallyResult', {
    types: [successType('OpenTallySuccess'), ValidationErrorType, TallyAlreadyOpenType, StreamUnreadableType],
    resolveType: (value: Readonly<{ type: string }>) => value.type,
  });
  const AddToTallyResult = builder.unionType('AddToTallyResult', {
    types: [successType('AddToTallySuccess'), ValidationErrorType, TallyNotFoundType, StreamUnreadableType],
    resolveType: (value: Readonly<{ type: string }>) => value.type,
  });

  builder.queryField('tally', (t) =>
    t.field({
      type: TallyType,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => ctx.queryBus.execute(getTally(String(id)), ctx.scope),
    }),
  );

  builder.mutationField('openTally', (t) =>
    t.field({
      type: OpenTallyResult,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, args, ctx) => {
        const tallyId = String(args.id);
        const outcome = await ctx.commandBus.execute(openTally(tallyId), { correlationId: ctx.requestId });
        if (!outcome.ok) return declaredOnly(outcome.error, ['ValidationError', 'TallyAlreadyOpen', 'StreamUnreadable']);
        return { type: 'OpenTallySuccess' as const, ...(await afterWrite(tallyId, outcome, ctx)) };
      },
    }),
  );

  builder.mutationField('addToTally', (t) =>
    t.field({
      type: AddToTallyResult,
      args: { id: t.arg.id({ required: true }), amount: t.arg.int({ required: true }) },
      resolve: async (_root, args, ctx) => {
        const tallyId = String(args.id);
        const outcome = await ctx.commandBus.execute(addToTally(tallyId, args.amount), { correlationId: ctx.requestId });
        if (!outcome.ok) return declaredOnly(outcome.error, ['ValidationError', 'TallyNotFound', 'StreamUnreadable']);
        return { type: 'AddToTallySuccess' as const, ...(await afterWrite(tallyId, outcome, ctx)) };
      },
    }),
  );
}
