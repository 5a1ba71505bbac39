import { describe, expect, it } from 'vitest';
import { createCryptoTurn } from '../../src/kernel/crypto/crypto-turn.js';

describe('crypto turn', () => {
  it('runs the work handed to it in one turn back to back, after that turn, each settling its own caller', async () => {
    const inCryptoTurn = createCryptoTurn();
    const ran: string[] = [];
    const first = inCryptoTurn(() => (ran.push('a'), 1));
    const failing = inCryptoTurn(() => {
      ran.push('b');
      throw new Error('b failed');
    });
    const third = inCryptoTurn(() => (ran.push('c'), 3));
    ran.push('handed over');
    // Nothing ran while the turn that handed the work over was still going, microtasks included.
    await Promise.resolve();
    expect(ran).toEqual(['handed over']);
    expect(await first).toBe(1);
    await expect(failing).rejects.toThrow('b failed');
    expect(await third).toBe(3);
    expect(ran).toEqual(['handed over', 'a', 'b', 'c']);
  });

  it('runs work handed over while a batch runs, or after it, in a later batch', async () => {
    const inCryptoTurn = createCryptoTurn();
    const ran: string[] = [];
    let nested: Promise<string> | undefined;
    await inCryptoTurn(() => {
      ran.push('outer');
      nested = inCryptoTurn(() => (ran.push('nested'), 'nested'));
    });
    expect(ran).toEqual(['outer']);
    expect(await nested).toBe('nested');
    expect(await inCryptoTurn(() => 'later')).toBe('later');
  });
});
