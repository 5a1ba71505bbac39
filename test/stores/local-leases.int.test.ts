import { localLeases } from '../../src/kernel/leases.js';
import { describeLeasesContract } from './leases.contract.js';

// One process, always granted: only the single-instance part of the contract applies.
describeLeasesContract('local (single process)', { type: 'single-process', create: async () => ({ leases: localLeases, cleanup: async () => {} }) });
