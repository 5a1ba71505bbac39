import { readFileSync } from 'node:fs';

export type CallFrame = Readonly<{ functionName: string; url: string; lineNumber: number }>;
type Profile = { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] };

/** A V8 .cpuprofile as the µs of self time each call frame was sampled in (idle included). */
export function selfTimes(file: string): { frame: CallFrame; micros: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, { frame: node.callFrame, micros: 0 }]));
  profile.samples.forEach((id, i) => (byId.get(id)!.micros += profile.timeDeltas[i] ?? 0));
  return [...byId.values()].filter((node) => node.micros > 0);
}

/** The npm package a frame's code comes from, if any. */
export const packageOf = (url: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
