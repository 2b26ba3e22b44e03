// Filesystem facts tests branch on: what the directory's filesystem allows.
import { closeSync, constants, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Whether this directory's filesystem opens files with O_DIRECT (tmpfs before Linux 6.6 does not). */
export function takesODirect(dir: string): boolean {
  const p = join(dir, '.odirect-probe');
  try {
    closeSync(openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    try { unlinkSync(p); } catch { /* not created */ }
  }
}
