import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { z } from 'zod';

/** Trusted documents by id: the only operations a server in trusted-documents mode runs. */
export type TrustedDocuments = ReadonlyMap<string, string>;

/** GraphQL Code Generator's client preset (`persistedDocuments: true`): `{ "<hash>": "<document>" }`. */
const codegenManifest = z.record(z.string().min(1), z.string().min(1));

/** `@apollo/generate-persisted-query-manifest`, read by Apollo Client's `@apollo/persisted-query-lists`. */
const apolloManifest = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(z.object({ id: z.string().min(1), body: z.string().min(1) })),
});

/**
 * Reads a trusted-documents manifest in either format. Every document must
 * parse, so a broken manifest stops the server at start rather than failing
 * one client at a time. Throws with the reason; the caller names the setting.
 */
export function readTrustedDocuments(path: string): TrustedDocuments {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read a JSON manifest there (${(error as Error).message})`);
  }
  const apollo = apolloManifest.safeParse(json);
  const entries: [string, string][] = apollo.success
    ? apollo.data.operations.map(({ id, body }) => [id, body])
    : Object.entries(parseCodegenManifest(json));
  if (entries.length === 0) throw new Error('the manifest lists no documents');
  for (const [id, document] of entries) {
    try {
      parse(document);
    } catch (error) {
      throw new Error(`document ${id} does not parse: ${(error as Error).message}`);
    }
  }
  return new Map(entries);
}

function parseCodegenManifest(json: unknown): Record<string, string> {
  const parsed = codegenManifest.safeParse(json);
  if (!parsed.success) {
    throw new Error('expected { "<id>": "<document>" } (GraphQL Code Generator) or an apollo-persisted-query-manifest');
  }
  return parsed.data;
}
