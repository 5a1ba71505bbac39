import { describe, expect, it } from 'vitest';
import { pathOf } from '../../src/server/request-logging.js';

describe('pathOf: the logged path of a request URL', () => {
  it.each([
    ['http://127.0.0.1:4000/graphql', '/graphql'],
    ['http://127.0.0.1:4000/graphql?query=%7B__typename%7D', '/graphql'],
    ['https://api.example.com/health#x', '/health'],
    ['http://localhost:4000', '/'],
    ['http://user@host/a/b?c=/d', '/a/b'],
  ])('%s → %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
    expect(pathOf(url)).toBe(new URL(url).pathname);
  });
});
