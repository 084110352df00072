/**
 * A spinner with the elapsed time on stderr for long work (dump, restore): the
 * daemon has no progress RPC yet, so this only shows that we are still waiting.
 * Silent when stderr is not a terminal, so logs and pipes stay clean.
 */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function startProgress(stream: ProgressStream, label: string): { stop(): void } {
  if (!stream.isTTY) return { stop() {} };
  const started = Date.now();
  let frame = 0;
  const draw = () => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${elapsed}s`);
  };
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[K');
    },
  };
}
