/**
 * The tallies module's commands on a real bus and the in-memory log: each
 * command type fixes its handler's input and rejections at compile time (the
 * `@ts-expect-error` lines are checked by `tsc -p .`, which `npm test` runs
 * first), and the stream is named by the kernel from the tally's category.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createCommandBus, validation, type CommandOutcome, type StreamUnreadable } from '../../src/kernel/command-bus.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { registerTallyCommands } from '../support/tallies/command-handlers.js';
import { addToTally, openTally, type AddToTally, type OpenTally, type TallyRejection } from '../support/tallies/decide.js';

const busWithTallies = () => {
  const eventLog = createMemoryEventStore();
  const commandBus = createCommandBus({ middlewares: [validation], clock: () => new Date('2026-01-01T00:00:00Z'), newId: randomUUID });
  registerTallyCommands({ commandBus, eventLog });
  return { commandBus, eventLog };
};

describe('tally commands on the typed bus', () => {
  it('appends to the tally category, and answers with the rejections the command declares', async () => {
    const { commandBus, eventLog } = busWithTallies();
    const opened = await commandBus.execute(openTally('t1'));
    // Any command may find its stream holding an event this server cannot read.
    expectTypeOf(opened).toEqualTypeOf<CommandOutcome<TallyRejection | StreamUnreadable>>();
    expect(opened).toMatchObject({ ok: true, value: { streamId: 'tally-t1', version: 1, changed: true } });

    expect(await commandBus.execute(addToTally('t1', 2))).toMatchObject({ ok: true, value: { streamId: 'tally-t1', version: 2 } });
    expect(await commandBus.execute(addToTally('t2', 2))).toMatchObject({ ok: false, error: { type: 'TallyNotFound', tallyId: 't2' } });
    expect(await commandBus.execute(addToTally('t1', 1.5))).toMatchObject({ ok: false, error: { type: 'ValidationError', fields: [{ field: 'amount' }] } });
    expect((await eventLog.readStream('tally-t1')).events.map((event) => event.type)).toEqual(['TallyOpened', 'TallyIncremented']);
    expect((await eventLog.readStream('t1')).version).toBe(0);
  });

  it('refuses at compile time a registration whose type, rejections or schema do not fit its command', () => {
    const { commandBus } = busWithTallies();
    const register = () => {
      // @ts-expect-error -- an OpenTally handler cannot be registered under another command's type.
      commandBus.register<OpenTally>('AddToTally', { handle: async () => ({ ok: false, error: { type: 'TallyAlreadyOpen', message: '', tallyId: '' } }) });
      commandBus.register<OpenTally>('OpenTally', {
        // @ts-expect-error -- a rejection OpenTally does not declare.
        handle: async () => ({ ok: false, error: { type: 'EmailTaken', message: '', email: '' } }),
      });
      // @ts-expect-error -- a schema whose output lacks `amount` cannot check AddToTally's data.
      commandBus.register<AddToTally>('AddToTally', { schema: z.strictObject({ tallyId: z.string() }), handle: async () => ({ ok: false, error: { type: 'TallyNotFound', message: '', tallyId: '' } }) });
    };
    // Registering them again would throw (both names are taken): the point is that they do not compile.
    expect(register).toThrow('already registered');
  });
});
