import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from '../../src/server/config.js';
import { ERROR_CODES } from '../../src/server/error-codes.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the README's configuration table: | `NAME` | `default` | meaning | */
function documentedSettings(): Map<string, string> {
  const section = readme.split('## Configuration')[1]?.split('\n## ')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (.+?) \|/gm)];
  return new Map(rows.map(([, name, fallback]) => [name!, fallback!.replaceAll('`', '').trim()]));
}

describe('README', () => {
  it('documents every setting with the default the code uses, and nothing else', () => {
    const documented = documentedSettings();
    expect([...documented.keys()].sort()).toEqual(Object.keys(settings).sort());
    for (const [name, setting] of Object.entries(settings)) {
      const parsed = setting.schema.safeParse(undefined);
      const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '(unset)';
      expect(documented.get(name), name).toBe(fallback);
    }
  });

  it('lists every error code the server sends, and no other', () => {
    const section = readme.split('### Error codes')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|/gm)];
    const documented = rows.flatMap(([, cell]) => [...cell!.matchAll(/`([A-Z_]+)`/g)].map(([, code]) => code!));
    expect(documented.sort()).toEqual([...ERROR_CODES].sort());
  });

  it('gives the one-line start and test commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
