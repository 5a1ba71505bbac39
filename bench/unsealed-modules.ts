import type { AnyModule } from '../src/module.js';
import { modules as shipped } from '../src/modules.js';

/**
 * The server's modules with no field declared personal, so nothing new is
 * sealed and nothing the bench appends needs a data key to be read: the
 * reference that scenario 12 measures sealing's cost against, in the same
 * runs. Erasure itself stays declared. Only the bench bundles this, in
 * place of src/modules.ts (bench/servers.ts); it is never shipped.
 */
export const modules: readonly AnyModule[] = shipped.map((module) =>
  module.personalData ? { ...module, personalData: { ...module.personalData, fields: {} } } : module,
);
