/** One sample of the Prometheus text format: `name{label="value",...} number`. */
export type Sample = Readonly<{ name: string; labels: Readonly<Record<string, string>>; value: number }>;

export type Scrape = Readonly<{
  status: number;
  contentType: string | null;
  samples: readonly Sample[];
  /** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
  value: (name: string, labels?: Record<string, string>) => number | undefined;
  /** Every sample with this name and these labels. */
  select: (name: string, labels?: Record<string, string>) => readonly Sample[];
}>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** A small parser for the text exposition format (no timestamps, which prom-client does not emit). */
export function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`Not a Prometheus sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map(([, k, v]) => [k!, JSON.parse(`"${v}"`) as string]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const response = await fetch(new URL('/metrics', baseUrl));
  const text = await response.text();
  const samples = response.status === 200 ? parseMetrics(text) : [];
  const select = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    samples,
    select,
    value: (name, labels) => {
      const found = select(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}
