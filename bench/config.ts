export type BenchConfig = Readonly<{
  quick: boolean;
  runs: number;
  warmupMs: number;
  durationMs: number;
  connections: number;
  smallUsers: number;
  largeUsers: number;
  rywRate: number;
  rywDurationMs: number;
  subscribers: number;
  eventRate: number;
  subscriptionDurationMs: number;
  /** Scenario 9: events in each long-stream user's stream, smallest first (the ratio compares the ends). */
  longStreamSizes: readonly number[];
  /** Scenario 9: timed requests of each kind per user and run. */
  longStreamSamples: number;
  /** Write V8 CPU profiles of our server into this directory. */
  cpuProfDir: string | undefined;
  /** `--only 1,5`: run just these scenarios (7, memory, comes with every server started). */
  only: ReadonlySet<number> | undefined;
}>;

/** `--quick`: every scenario at small sizes, a smoke run in well under a minute; its speeds mean nothing. */
export function benchConfig(argv: readonly string[]): BenchConfig {
  const quick = argv.includes('--quick');
  const profIndex = argv.indexOf('--cpu-prof');
  const cpuProfDir = profIndex >= 0 ? (argv[profIndex + 1] ?? 'profiles') : undefined;
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',').map(Number)) : undefined;
  const base = quick
    ? {
        quick,
        runs: 3,
        warmupMs: 100,
        durationMs: 250,
        connections: 32,
        smallUsers: 1_000,
        largeUsers: 10_000,
        rywRate: 200,
        rywDurationMs: 500,
        subscribers: 50,
        eventRate: 50,
        subscriptionDurationMs: 400,
        longStreamSizes: [10, 100, 1_000],
        longStreamSamples: 20,
        cpuProfDir,
        only,
      }
    : {
        quick,
        runs: 3,
        warmupMs: 1_000,
        durationMs: 5_000,
        connections: 32,
        smallUsers: 10_000,
        largeUsers: 1_000_000,
        rywRate: 1_000,
        rywDurationMs: 5_000,
        subscribers: 1_000,
        eventRate: 200,
        subscriptionDurationMs: 5_000,
        longStreamSizes: [10, 1_000, 100_000],
        longStreamSamples: 200,
        cpuProfDir,
        only,
      };
  // Scenario 5 at other sizes, e.g. `--quick --only 5 --subscribers 1000 --event-rate 100 --subscription-seconds 2` for a short look.
  const number = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? Number(argv[index + 1]) : undefined;
  };
  const seconds = number('--subscription-seconds');
  return {
    ...base,
    subscribers: number('--subscribers') ?? base.subscribers,
    eventRate: number('--event-rate') ?? base.eventRate,
    subscriptionDurationMs: seconds === undefined ? base.subscriptionDurationMs : seconds * 1000,
  };
}
