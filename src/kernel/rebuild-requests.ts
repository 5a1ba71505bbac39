/**
 * How `npm run rebuild` asks a running system for a blue/green build, and
 * follows it. The request and the progress go through the store (a table
 * and a NOTIFY on PostgreSQL, files in DATA_DIR on SQLite), so the command
 * needs nothing but the store's address, and on PostgreSQL reaches whichever
 * instance leads the projection.
 */
export type RebuildRequest = Readonly<{ id: string; name: string }>;

export type RequestState = 'waiting' | 'building' | 'switching' | 'done' | 'failed';

export type RequestStatus = Readonly<{
  state: RequestState;
  applied: number;
  total: number;
  /** As clients see positions. */
  position: string;
  head: string;
  eventsPerSecond: number;
  /** Why it failed, or the last error of a build that is retrying. */
  error: string | null;
}>;

export interface RebuildRequests {
  /** For the server: requests for these projections that nobody took yet, now taken by this process. */
  take(names: readonly string[]): Promise<readonly RebuildRequest[]>;
  /** For the server: the progress of the build that serves these requests. */
  report(ids: readonly string[], status: RequestStatus): Promise<void>;
  /** Wakes the server when a request arrives; without it, the server looks every poll interval. */
  onRequest?(listener: () => void): () => void;
  /** For the command: asks for a build of `name` and returns the request's id. */
  request(name: string): Promise<string>;
  /** For the command: null until the server took the request. */
  status(id: string): Promise<RequestStatus | null>;
  /** For the command: forgets the request, taken or not. */
  withdraw(id: string): Promise<void>;
  close(): Promise<void>;
}

export const waitingStatus: RequestStatus = { state: 'waiting', applied: 0, total: 0, position: '0', head: '0', eventsPerSecond: 0, error: null };
