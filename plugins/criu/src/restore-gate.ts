/**
 * The resume gate of one restore attempt (RestoreContext.resumeGate): while CRIU restores,
 * the daemon still verifies the page files; shim/restore-gate.sh, CRIU's post-restore action
 * script, holds the restored tasks stopped until the daemon's word arrives on a FIFO, and
 * makes CRIU kill them when it is not "resume". The FIFO is opened read-write here before
 * CRIU starts, so that the script never waits to open it, the word stays in the pipe when
 * it is written before the script reads, and the script reads end-of-file (and fails the
 * restore) if the daemon goes away.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, copyFile, type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The action script, shipped in the package's `shim` folder; CRIU execs a private copy of it. */
const GATE_SCRIPT = fileURLToPath(new URL('../shim/restore-gate.sh', import.meta.url));

/** The environment variable naming the FIFO to the script. */
const GATE_ENV = 'CEDANA_RESTORE_GATE';

export interface ResumeGateAttempt {
  /** For criu restore. */
  args: string[];
  /** For criu's environment (the script inherits it). */
  env: Record<string, string>;
  /** Once criu exited: the word, if still unread, goes with the FIFO. */
  close(): Promise<void>;
}

/**
 * Opens the gate of attempt `attempt` in the private folder `work`; the word is written when
 * `verified` settles: "resume" when it resolved, "kill" when it rejected.
 */
export async function openResumeGate(work: string, attempt: number, verified: Promise<void>): Promise<ResumeGateAttempt> {
  const script = join(work, 'restore-gate');
  if (attempt === 1) {
    await copyFile(GATE_SCRIPT, script);
    await chmod(script, 0o700);
  }
  const fifo = join(work, `gate-${attempt}.fifo`);
  await promisify(execFile)('mkfifo', ['-m', '0600', fifo]);
  const fh: FileHandle = await open(fifo, constants.O_RDWR);
  let closed = false;
  void verified
    .then(
      () => 'resume\n',
      () => 'kill\n',
    )
    .then((word) => (closed ? undefined : fh.write(word)))
    .catch(() => {}); // closed meanwhile: criu is gone, nobody reads
  return {
    args: ['--action-script', script],
    env: { [GATE_ENV]: fifo },
    close: async () => {
      closed = true;
      await fh.close().catch(() => {});
    },
  };
}
