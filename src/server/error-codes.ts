import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * Every `extensions.code` a client can meet, following Apollo Server's names
 * where it has one. README.md ("Error codes") lists them with their statuses.
 */
export const ERROR_CODES = [
  // The request itself
  'BAD_REQUEST',
  'CSRF_PREVENTED',
  'REQUEST_ENTITY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_ACCEPTABLE',
  // The operation
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_USER_INPUT',
  'MAX_DEPTH_EXCEEDED',
  'MAX_ALIASES_EXCEEDED',
  'MAX_COST_EXCEEDED',
  'MAX_TOKENS_EXCEEDED',
  'MAX_DIRECTIVES_EXCEEDED',
  'TOO_MANY_SUBSCRIPTIONS',
  'RESUME_AFTER',
  // Who asks
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'AUTH_UNAVAILABLE',
  // Persisted operations and batching (persisted-operations.ts, trusted-documents.ts, batching.ts)
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_MISMATCH',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'PERSISTED_QUERY_ID_REQUIRED',
  'BATCH_TOO_LARGE',
  'BATCH_EMPTY',
  'BATCHING_NOT_SUPPORTED',
  // Positions (response-cache/plugin.ts)
  'INVALID_POSITION',
  'POSITION_NOT_REACHED',
  // The server
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Refusals yoga answers with an empty body; given a JSON one here. */
const EMPTY_REFUSALS: Readonly<Record<number, { code: ErrorCode; message: string }>> = {
  406: {
    code: 'NOT_ACCEPTABLE',
    message: 'The Accept header allows no media type this request can be answered with; see the Accept header of this response.',
  },
  415: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send the operation as application/json (POST), or as query parameters (GET).',
  },
};

/**
 * Gives every error in `errors[]` an `extensions.code`, over HTTP, SSE and
 * graphql-ws alike, and a JSON body with a code to the refusals yoga sends
 * empty. Codes set where an error is made are kept; this only fills gaps:
 *
 * - a document that does not parse: GRAPHQL_PARSE_FAILED (yoga sets it only
 *   for HTTP requests);
 * - an execution that ends before running any field (graphql-js returns
 *   errors and no `data`): the variables did not coerce, BAD_USER_INPUT, as
 *   Apollo Server does;
 * - a request error with no code and no status (yoga's multipart parser
 *   throws such, which yoga would answer 200): 400 BAD_REQUEST;
 * - anything else, such as a GraphQLError a resolver threw without a code
 *   (masking lets those through): INTERNAL_SERVER_ERROR, or BAD_REQUEST when
 *   it carries a 4xx status.
 */
export function useErrorCodes(): Plugin {
  const codeResult = (result: ExecutionResult) => {
    const beforeExecution = result.data === undefined;
    for (const error of result.errors ?? []) fillCode(error, beforeExecution && isOriginal(error) ? 'BAD_USER_INPUT' : fallbackCode(error));
  };
  // Hooks return nothing: the errors are coded in place, the results stay the same objects.
  const codeExecution = ({ result }: { result: unknown }) => {
    if (!isAsyncIterable(result)) return codeResult(result as ExecutionResult);
    return { onNext: ({ result: next }: { result: ExecutionResult }) => codeResult(next) };
  };
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof GraphQLError) fillCode(result, 'GRAPHQL_PARSE_FAILED');
      };
    },
    onExecute: () => ({ onExecuteDone: codeExecution }),
    onSubscribe: () => ({ onSubscribeResult: codeExecution }),
    onResultProcess({ result }) {
      if (isAsyncIterable(result)) return; // each event is coded by onSubscribeResult
      for (const single of (Array.isArray(result) ? result : [result]) as ExecutionResult[]) {
        const requestError = single.data === undefined;
        for (const error of single.errors ?? []) {
          if (requestError && isOriginal(error) && !hasCode(error)) markBadRequest(error);
          else fillCode(error, fallbackCode(error));
        }
      }
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const refusal = EMPTY_REFUSALS[response.status];
      if (!refusal || response.body !== null) return;
      const headers = new fetchAPI.Headers(response.headers);
      const accept = request.headers.get('accept') ?? '';
      headers.set('content-type', `${accept.includes('application/graphql-response+json') ? 'application/graphql-response+json' : 'application/json'}; charset=utf-8`);
      const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
      setResponse(new fetchAPI.Response(body, { status: response.status, statusText: response.statusText, headers }));
    },
  };
}

type MutableExtensions = Record<string, unknown> & { http?: { status?: number } };

/** In place, as yoga does for its own codes: the error objects are the ones serialised. */
function fillCode(error: GraphQLError, code: ErrorCode): void {
  if (hasCode(error)) return;
  const extensions = error.extensions as MutableExtensions;
  if (Object.isFrozen(extensions)) {
    (error as { extensions: MutableExtensions }).extensions = { ...extensions, code };
    return;
  }
  extensions['code'] = code;
}

const hasCode = (error: GraphQLError) => typeof error.extensions['code'] === 'string';

/**
 * A GraphQLError raised before anything ran, by a request parser that gave it
 * no code and no status (yoga's multipart parser): the request's fault, not a
 * 200 and not a 500.
 */
function markBadRequest(error: GraphQLError): void {
  fillCode(error, 'BAD_REQUEST');
  const extensions = error.extensions as MutableExtensions;
  extensions.http = { ...extensions.http, status: extensions.http?.status ?? 400 };
}

function fallbackCode(error: GraphQLError): ErrorCode {
  const status = (error.extensions as MutableExtensions).http?.status;
  return status !== undefined && status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
}

/**
 * Made by graphql-js or a scalar's parser (GraphQLErrors all the way down),
 * not wrapped around something unexpected, which masking answers for.
 */
function isOriginal(error: Error): boolean {
  const cause = (error as GraphQLError).originalError;
  return error instanceof GraphQLError && (cause === undefined || cause === null || isOriginal(cause));
}
