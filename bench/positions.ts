/**
 * Clients treat positions as opaque; the bench checks delivery order, so it
 * reads the two formats the server documents (`sqlite:N`, `pg:xid.seq`, and
 * `0` for the start) into keys whose text order is log order.
 */
export function orderKey(position: string): string {
  if (position === '0') return '';
  const sqlite = /^sqlite:(\d+)$/.exec(position);
  if (sqlite) return `${'0'.padStart(20, '0')}.${sqlite[1]!.padStart(20, '0')}`;
  const pg = /^pg:(\d+)\.(\d+)$/.exec(position);
  if (pg) return `${pg[1]!.padStart(20, '0')}.${pg[2]!.padStart(20, '0')}`;
  throw new Error(`not a position this bench knows: ${position}`);
}

export const laterPosition = (a: string, b: string): string => (orderKey(b) > orderKey(a) ? b : a);
