import { z } from 'zod';
import type { CommandBus } from '../../../src/kernel/command-bus.js';
import { deciderHandler } from '../../../src/kernel/command-handler.js';
import type { EventLog } from '../../../src/kernel/event-store.js';
import { tallyDecider, type AddToTally, type OpenTally } from './decide.js';
import { TALLY_STREAMS } from './tally.js';

const tallyId = z.string().min(1).max(64);
const openTallyRules = z.strictObject({ tallyId });
const addToTallyRules = z.strictObject({ tallyId, amount: z.number().int().positive() });

export type TallyCommandsWiring = Readonly<{
  commandBus: CommandBus;
  eventLog: Pick<EventLog, 'append' | 'readStream'>;
}>;

export function registerTallyCommands({ commandBus, eventLog }: TallyCommandsWiring): void {
  const handle = deciderHandler({
    decider: tallyDecider,
    eventLog,
    category: TALLY_STREAMS,
    entityId: (command) => command.data.tallyId,
    // Tally commands name no expected version, so the handler never reports a conflict (it retries a lost race instead).
    versionConflict: () => {
      throw new Error('Tally commands carry no expected version');
    },
  });
  commandBus.register<OpenTally>('OpenTally', { schema: openTallyRules, handle });
  commandBus.register<AddToTally>('AddToTally', { schema: addToTallyRules, handle });
}
