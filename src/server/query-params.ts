import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';

/**
 * Parses a GET's query string and a form POST's body like yoga does, except
 * that `variables` or `extensions` that are not JSON are the client's
 * mistake: 400 BAD_REQUEST naming the parameter. Yoga lets `JSON.parse`
 * throw there, which it masks as a 500 and logs as a server error.
 */
export function useQueryParams(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method === 'GET') {
        setRequestParser((get) => paramsOf(new URLSearchParams(get.url.slice(get.url.indexOf('?') + 1))));
      } else if (request.method === 'POST' && isForm(request.headers.get('content-type'))) {
        setRequestParser(async (post) => paramsOf(new URLSearchParams(await post.text())));
      }
    },
  };
}

function isForm(contentType: string | null): boolean {
  const type = contentType?.split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}

function paramsOf(search: URLSearchParams): GraphQLParams {
  return {
    operationName: search.get('operationName') || undefined,
    query: search.get('query') || undefined,
    variables: jsonParam(search, 'variables'),
    extensions: jsonParam(search, 'extensions'),
  } as GraphQLParams;
}

/** The parameter's JSON value; its shape (an object) is checked by yoga afterwards, as for a JSON body. */
function jsonParam(search: URLSearchParams, name: 'variables' | 'extensions'): unknown {
  const text = search.get(name);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw createGraphQLError(`The "${name}" parameter is not valid JSON.`, {
      extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
    });
  }
}
