import type { Position } from '../../kernel/position.js';
import type { UserView } from '../user-view.js';

/** The users table's row, the same on every store. */
export type UserRow = {
  id: string;
  username: string | null;
  email: string | null;
  erased: boolean;
  version: number;
  created_at: string;
  updated_at: string;
  created_position: Position;
};

export const toUserView = (row: UserRow): UserView => ({
  id: row.id,
  username: row.username,
  email: row.email,
  erased: row.erased,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  createdPosition: row.created_position,
});
