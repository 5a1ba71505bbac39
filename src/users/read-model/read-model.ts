import type { Position } from '../../kernel/position.js';
import type { UserView } from '../user-view.js';

export type PageRequest = Readonly<{
  direction: 'forward' | 'backward';
  limit: number;
  /** Exclusive bounds on the creation position. */
  after?: Position;
  before?: Position;
}>;

export type UserPage = Readonly<{ items: readonly UserView[]; hasNextPage: boolean; hasPreviousPage: boolean }>;

/** What the users queries need from a read store; one implementation per store adapter. */
export interface UsersReadModel {
  /** One query however many ids. */
  byIds(ids: readonly string[]): Promise<readonly UserView[]>;
  /** Keyset page in creation order: an indexed range scan, never an offset. */
  page(request: PageRequest): Promise<UserPage>;
  count(): Promise<number>;
}
