/**
 * Progress of a dump or restore on stderr. The daemon reports bytes done out of a total
 * per phase (Progress RPC, fed by ctx.progress); until the first report, and where the
 * total is not known, a spinner with the elapsed time shows that we are still waiting.
 *
 * On a terminal: one line redrawn in place, first drawn after `delayMs` (a quick request
 * shows nothing). Elsewhere, only when asked (`--progress`): a plain line per phase and
 * per tenth done, so logs stay readable. Never with --json (the commands see to that).
 */
import { formatSize } from './table.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface ProgressReport {
  phase: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface ProgressDisplay {
  /** A report from the daemon. */
  update(report: ProgressReport): void;
  /** Clears the line (terminal) and stops redrawing. */
  stop(): void;
}

export interface ProgressOptions {
  /** Show it even when the stream is not a terminal (plain lines). */
  force?: boolean;
  /** Before this, nothing is drawn on a terminal. */
  delayMs?: number;
  now?: () => number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 24;
const DEFAULT_DELAY_MS = 300;
const NONE: ProgressDisplay = { update() {}, stop() {} };

/** formatSize, with 0 B rather than '-' at the start. */
const size = (bytes: number) => (bytes > 0 ? formatSize(bytes) : '0 B');

/** The line for `report` (or a spinner alone before any), `elapsedMs` after the start. */
export function renderProgress(label: string, report: ProgressReport | undefined, elapsedMs: number, frame: number): string {
  const spinner = FRAMES[frame % FRAMES.length];
  const elapsed = `${(elapsedMs / 1000).toFixed(1)}s`;
  if (!report) return `${spinner} ${label} ${elapsed}`;
  if (report.bytesTotal <= 0) return `${spinner} ${label} · ${report.phase} ${size(report.bytesDone)} ${elapsed}`;
  const ratio = Math.min(1, report.bytesDone / report.bytesTotal);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${spinner} ${label} · ${report.phase} ${bar} ${percent} ${size(report.bytesDone)} / ${size(report.bytesTotal)} ${elapsed}`;
}

export function startProgress(stream: ProgressStream, label: string, opts: ProgressOptions = {}): ProgressDisplay {
  if (stream.isTTY) return terminalProgress(stream, label, opts);
  return opts.force ? lineProgress(stream, label) : NONE;
}

function terminalProgress(stream: ProgressStream, label: string, opts: ProgressOptions): ProgressDisplay {
  const now = opts.now ?? Date.now;
  const started = now();
  const delayMs = opts.delayMs ?? DEFAULT_DELAY_MS;
  let frame = 0;
  let report: ProgressReport | undefined;
  let drawn = false;
  const draw = () => {
    if (now() - started < delayMs) return;
    drawn = true;
    stream.write(`\r${renderProgress(label, report, now() - started, frame++)}\x1b[K`);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  draw();
  return {
    update(r) {
      report = r;
      draw();
    },
    stop() {
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

function lineProgress(stream: ProgressStream, label: string): ProgressDisplay {
  let phase = '';
  let tenth = -1;
  return {
    update(r) {
      const t = r.bytesTotal > 0 ? Math.floor((Math.min(r.bytesDone, r.bytesTotal) / r.bytesTotal) * 10) : -1;
      if (r.phase === phase && t === tenth) return;
      phase = r.phase;
      tenth = t;
      const amount = r.bytesTotal > 0 ? `${t * 10}% ${size(r.bytesDone)} / ${size(r.bytesTotal)}` : size(r.bytesDone);
      stream.write(`${label}: ${r.phase} ${amount}\n`);
    },
    stop() {},
  };
}

/** A request ID for the Progress RPC. */
export function requestId(): string {
  return `${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
