import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/server/error-codes.js';

export type ErrorEntry = { message?: unknown; extensions?: { code?: unknown } };

/** A pino destination that keeps every JSON line it is given, parsed, in `lines`. */
export function logCapture(): { sink: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { sink, lines };
}

/** The errors[] of an answer, whichever way it was delivered: a JSON body or the first SSE `next` event. */
export async function errorsOf(response: Response): Promise<ErrorEntry[]> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (type.startsWith('text/event-stream')) {
    const data = /^event: next\ndata: (.*)$/m.exec(text)?.[1];
    expect(data, `an SSE next event in ${JSON.stringify(text)}`).toBeDefined();
    return (JSON.parse(data!) as { errors: ErrorEntry[] }).errors;
  }
  expect(type).toMatch(/^application\/(graphql-response\+)?json; charset=utf-8$/);
  return (JSON.parse(text) as { errors: ErrorEntry[] }).errors;
}

/** Every entry has a message and a code from ERROR_CODES, and `code` is among them. */
export function expectCoded(errors: ErrorEntry[] | undefined, code: ErrorCode) {
  expect(errors?.length).toBeGreaterThan(0);
  for (const error of errors ?? []) {
    expect(typeof error.message).toBe('string');
    expect(error.extensions?.code).toBeTypeOf('string');
    expect(ERROR_CODES).toContain(error.extensions?.code);
  }
  expect(errors?.map((error) => error.extensions?.code)).toContain(code);
}
