import type { AnyModule } from './module.js';
import { usersModule } from './users/module.js';

/** Every feature this server runs. Adding one is a folder under src/ and a line here. */
export const modules: readonly AnyModule[] = [usersModule];
