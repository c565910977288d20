import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AtlasError } from '../errors.js';

/** Whether a process with this pid is running (EPERM: it exists but is not ours). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes a lock file holding this process's pid, created exclusively. A lock whose
 * process has died (crash, `kill -9`) is taken over; a live holder gets `busy(pid)`
 * thrown. `sameProcessHolds`: whether a lock with our own pid counts as held (another
 * task in this process) or as stale (left by an earlier, failed attempt). Default false.
 * Release by deleting the file.
 */
export function takePidLock(
  path: string,
  busy: (pid: number) => AtlasError,
  options: { sameProcessHolds?: boolean } = {},
): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      const held = pid === process.pid ? Boolean(options.sameProcessHolds) : processAlive(pid);
      if (held) throw busy(pid);
      rmSync(path, { force: true }); // left by a process that died
    }
  }
  throw new AtlasError('STATE', `could not take the lock ${path}`, { value: path });
}
