import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type ParseOptions, type Source, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export type OperationLimits = Readonly<{
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
}>;

export const LIMIT_CODES = {
  maxDepth: 'MAX_DEPTH_EXCEEDED',
  maxAliases: 'MAX_ALIASES_EXCEEDED',
  maxCost: 'MAX_COST_EXCEEDED',
  maxTokens: 'MAX_TOKENS_EXCEEDED',
  maxDirectives: 'MAX_DIRECTIVES_EXCEEDED',
} as const satisfies Record<keyof OperationLimits, string>;

/**
 * graphql-armor's limits on the shape of an operation, checked before it
 * runs (tokens while parsing, the rest as validation rules), so an abusive
 * document costs the server no resolver work. A refusal is an ordinary
 * GraphQL request error (400 with application/graphql-response+json) with
 * `extensions.code` naming the limit. The same plugins guard HTTP, SSE and
 * graphql-ws, which all run through yoga's envelop. yoga parses and
 * validates each operation of a batch on its own, so each meets every limit
 * as if sent alone (only the body-size limit is per request).
 */
export function useOperationLimits(limits: OperationLimits): Plugin[] {
  // armor throws out of a validation rule by default; reporting instead makes the refusal
  // a validation error that every transport already answers properly.
  const report = (limit: keyof Omit<OperationLimits, 'maxTokens'>) => ({
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitError(limit, limits, error))],
  });
  return [
    useTokenLimit(limits),
    maxDepthPlugin({ n: limits.maxDepth, ...report('maxDepth') }),
    maxAliasesPlugin({ n: limits.maxAliases, ...report('maxAliases') }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...report('maxDirectives') }),
    costLimitPlugin({ maxCost: limits.maxCost, ...report('maxCost') }),
  ];
}

/** armor's token-counting parser; its refusal is re-thrown with our code (it stops the parse either way). */
function useTokenLimit(limits: OperationLimits): Plugin {
  const parse = (source: string | Source, options?: ParseOptions) => {
    let refused: GraphQLError | undefined;
    const parser = new MaxTokensParserWLexer(source, {
      ...options,
      n: limits.maxTokens,
      onReject: [(_context: unknown, error: GraphQLError) => void (refused = error)],
    } as ConstructorParameters<typeof MaxTokensParserWLexer>[1]);
    try {
      return parser.parseDocument();
    } catch (error) {
      throw refused ? limitError('maxTokens', limits, refused) : error;
    }
  };
  return { onParse: ({ setParseFn }) => setParseFn(parse) };
}

function limitError(limit: keyof OperationLimits, limits: OperationLimits, armorError: GraphQLError): GraphQLError {
  // armor prefixes every refusal with "Syntax Error: " although only tokens are counted while parsing.
  const message = armorError.message.replace(/^Syntax Error: /, '');
  return new GraphQLError(message, { extensions: { code: LIMIT_CODES[limit], limit: limits[limit] } });
}
