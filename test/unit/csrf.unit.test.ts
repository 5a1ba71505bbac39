/**
 * The CSRF rule (src/server/csrf.ts, README "Production mode, errors, CSRF
 * and CORS") as a table: which requests a browser could forge with the
 * victim's credentials, and so need the header. test/http/security.int
 * checks the same rule through the app, and security.e2e with a real EventSource.
 */
import { describe, expect, it } from 'vitest';
import { CSRF_HEADER, csrfRefusal } from '../../src/server/csrf.js';

const COOKIE = { cookie: 'session=1' };

describe('CSRF rule', () => {
  it.each<[string, string, Record<string, string>, ReturnType<typeof csrfRefusal>]>([
    // GET: only ambient credentials make it dangerous
    ['anonymous GET', 'GET', {}, null],
    ['GET with a bearer token', 'GET', { authorization: 'Bearer abc.def.ghi' }, null],
    ['GET with a lower-case bearer token', 'GET', { authorization: 'bearer abc' }, null],
    ['EventSource GET', 'GET', { accept: 'text/event-stream' }, null],
    ['GET with a cookie', 'GET', COOKIE, 'credentialed GET'],
    ['GET with a cookie and a bearer token', 'GET', { ...COOKIE, authorization: 'Bearer abc' }, 'credentialed GET'],
    ['GET with Basic credentials', 'GET', { authorization: 'Basic dTpw' }, 'credentialed GET'],
    ['GET with Negotiate credentials', 'GET', { authorization: 'Negotiate YII=' }, 'credentialed GET'],
    ['GET with "Bearer" and no token', 'GET', { authorization: 'Bearer' }, 'credentialed GET'],
    ['GET with a cookie, cross-site', 'GET', { ...COOKIE, 'sec-fetch-site': 'cross-site' }, 'credentialed GET'],
    ['GET with a cookie, same-site', 'GET', { ...COOKIE, 'sec-fetch-site': 'same-site' }, 'credentialed GET'],
    ['GET with a cookie, same-origin', 'GET', { ...COOKIE, 'sec-fetch-site': 'same-origin' }, null],
    ['GET with a cookie, typed by the user', 'GET', { ...COOKIE, 'sec-fetch-site': 'none' }, null],
    ['GET with a cookie and the header', 'GET', { ...COOKIE, [CSRF_HEADER]: '' }, null],
    ['GET with a cookie and apollo-require-preflight', 'GET', { ...COOKIE, 'apollo-require-preflight': 'true' }, null],
    ['GET with a cookie and x-apollo-operation-name', 'GET', { ...COOKIE, 'x-apollo-operation-name': 'Q' }, null],
    // POST: what a form can send needs the header, credentials or not
    ['JSON POST', 'POST', { 'content-type': 'application/json' }, null],
    ['JSON POST with a cookie', 'POST', { ...COOKIE, 'content-type': 'application/json; charset=utf-8' }, null],
    ['application/graphql POST', 'POST', { 'content-type': 'application/graphql' }, null],
    ['urlencoded form POST', 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'form POST'],
    ['multipart form POST', 'POST', { 'content-type': 'multipart/form-data; boundary=x' }, 'form POST'],
    ['text/plain POST', 'POST', { 'content-type': 'Text/Plain;charset=UTF-8' }, 'form POST'],
    ['POST with no content type', 'POST', {}, 'form POST'],
    ['form POST with the header', 'POST', { 'content-type': 'text/plain', [CSRF_HEADER]: '1' }, null],
    // Every other method is preflighted by the browser
    ['PUT with no content type', 'PUT', {}, null],
    ['OPTIONS preflight', 'OPTIONS', { ...COOKIE }, null],
  ])('%s', (_name, method, headers, verdict) => {
    expect(csrfRefusal(method, new Headers(headers))).toBe(verdict);
  });
});
