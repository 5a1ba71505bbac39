/** One event of a `text/event-stream` body, as EventSource parses it (pings and unnamed blocks dropped). */
export type SseFrame = Readonly<{ event: string; id?: string; data: string }>;

export type SseStream = Readonly<{
  /** Every frame read so far, in arrival order. */
  frames: readonly SseFrame[];
  /** `data` of each `next` frame read so far, parsed. */
  results: <T>() => T[];
  /** Reads until `count` `next` frames arrived in all, or the stream ended; fails after `timeoutMs`. */
  readNext: (count: number, timeoutMs?: number) => Promise<void>;
  /** Reads until the server ends the stream. */
  readToEnd: (timeoutMs?: number) => Promise<void>;
  ended: () => boolean;
  /** Stops reading: the server sees the client leave. */
  cancel: () => Promise<void>;
}>;

/** Reads a GraphQL over SSE response (distinct connections mode) frame by frame, as a test needs them. */
export function readSse(response: globalThis.Response): SseStream {
  if (!response.body) throw new Error(`no body to read (HTTP ${response.status})`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const frames: SseFrame[] = [];
  let buffer = '';
  let ended = false;
  const nextCount = () => frames.filter((frame) => frame.event === 'next').length;

  const parseBuffered = () => {
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event: string | undefined;
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // a ping
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (event) frames.push({ event, ...(id !== undefined ? { id } : {}), data: data.join('\n') });
    }
  };

  const readUntil = async (enough: () => boolean, what: string, timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; read so far: ${JSON.stringify(frames)}`)), timeoutMs);
    });
    try {
      while (!enough() && !ended) {
        const { done, value } = await Promise.race([reader.read(), timeout]);
        if (done) ended = true;
        else buffer += decoder.decode(value, { stream: true });
        parseBuffered();
      }
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    frames,
    results: <T>() => frames.filter((frame) => frame.event === 'next').map((frame) => JSON.parse(frame.data) as T),
    readNext: async (count, timeoutMs = 5000) => {
      await readUntil(() => nextCount() >= count, `${count} next frames`, timeoutMs);
      if (nextCount() < count) throw new Error(`the stream ended after ${nextCount()} of ${count} next frames: ${JSON.stringify(frames)}`);
    },
    readToEnd: (timeoutMs = 5000) => readUntil(() => false, 'the end of the stream', timeoutMs),
    ended: () => ended,
    cancel: async () => {
      if (!ended) await reader.cancel();
      ended = true;
    },
  };
}
