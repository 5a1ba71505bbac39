import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  visit,
  type ASTNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type ParseOptions,
  type Source,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from '../kernel/keyset-page.js';

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
    useValidationRule(onArmorsView(maxDepthRule({ n: limits.maxDepth, ...report('maxDepth') }))),
    // armor lets any number of `__typename` aliases through by default; they cost a line of output each like any other.
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [], ...report('maxAliases') }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...report('maxDirectives') }),
    useValidationRule(onArmorsView(costLimitRule({ maxCost: limits.maxCost, ...report('maxCost') }))),
  ];
}

const useValidationRule = (rule: ValidationRule): Plugin => ({ onValidate: ({ addValidationRule }) => addValidationRule(rule) });

type ArmorVisitor = { onOperationDefinitionEnter: (operation: OperationDefinitionNode) => void };

/**
 * Runs an armor depth or cost rule on the operation as the server will really
 * serve it, so the limits mean what the README says:
 * - `__type` is introspection as much as `__schema`, which is all armor
 *   exempts; armor is shown it under that name. graphql-js's own
 *   MaxIntrospectionDepthRule (a specified rule) still bounds both.
 * - no page is longer than MAX_PAGE_SIZE, so a larger `first`/`last` costs
 *   what the largest page costs; the field itself then refuses it with
 *   BAD_USER_INPUT, the page-size rule, instead of a cost estimate for a
 *   list that could never be returned.
 */
function onArmorsView(rule: (context: ValidationContext) => ArmorVisitor): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode | null | undefined>();
    const view = Object.create(context, {
      getFragment: {
        value: (name: string) => {
          if (!fragments.has(name)) {
            const fragment = context.getFragment(name);
            fragments.set(name, fragment && asServed(fragment));
          }
          return fragments.get(name);
        },
      },
    }) as ValidationContext;
    const visitor = rule(view);
    return { OperationDefinition: { enter: (operation) => visitor.onOperationDefinitionEnter(asServed(operation)) } };
  };
}

function asServed<T extends ASTNode>(node: T): T {
  return visit(node, {
    Field: (field) => (field.name.value === '__type' ? { ...field, name: { ...field.name, value: '__schema' } } : undefined),
    Argument: (argument) => {
      if ((argument.name.value !== 'first' && argument.name.value !== 'last') || argument.value.kind !== Kind.INT) return undefined;
      const size = Math.min(Number(argument.value.value), MAX_PAGE_SIZE);
      return { ...argument, value: { ...argument.value, value: String(size) } };
    },
  });
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
