/**
 * The oldest Node this runs on: the floor of package.json `engines`
 * (test/docs/node-versions.unit.test.ts keeps the two equal). On an older
 * Node, better-sqlite3 13 crashes with a segmentation fault when it opens a
 * database, so the commands refuse before that with a line that says why.
 */
export const OLDEST_SUPPORTED_NODE = '22.15.0';

const parts = (version: string) => version.replace(/^v/, '').split('.').map(Number);

/** Why this Node cannot run the commands, or null when it can. */
export function unsupportedNode(running: string): string | null {
  const have = parts(running);
  const need = parts(OLDEST_SUPPORTED_NODE);
  for (let i = 0; i < need.length; i += 1) {
    if ((have[i] ?? 0) > need[i]!) return null;
    if ((have[i] ?? 0) < need[i]!) {
      return `Node ${running} is not supported: cqrs-graphql needs Node ${OLDEST_SUPPORTED_NODE} or later (24 recommended; see .nvmrc and the README)`;
    }
  }
  return null;
}
