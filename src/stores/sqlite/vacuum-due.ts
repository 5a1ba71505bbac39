import { closeSync, existsSync, fsyncSync, openSync, rmSync } from 'node:fs';

/** A flag that outlives the process (a file beside a database): VACUUM is due. */
export type VacuumDue = Readonly<{ isSet: () => boolean; set: () => void; clear: () => void }>;

export function vacuumDueFile(path: string): VacuumDue {
  return {
    isSet: () => existsSync(path),
    set: () => {
      const fd = openSync(path, 'w');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    clear: () => rmSync(path, { force: true }),
  };
}
