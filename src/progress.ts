/**
 * Progress events from the library, and the CLI's renderers: live status on a
 * terminal, plain lines otherwise, nothing with --quiet. Always on stderr so
 * stdout stays clean for --json.
 */

export type ItemState = 'start' | 'built' | 'cached' | 'collected' | 'packaged' | 'reused' | 'warning' | 'failed';

export interface ProgressEvent {
  /** "wheels", "packages", ... */
  stage: string;
  /** "tinyvec==1.0.0" */
  item: string;
  state: ItemState;
  elapsedMs?: number;
  detail?: string;
}

export type Progress = (event: ProgressEvent) => void;

export const silentProgress: Progress = () => {};

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`;
}

export interface Stream {
  write(text: string): boolean;
  isTTY?: boolean;
}

export function createProgress(stream: Stream, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet) return silentProgress;
  const running = new Map<string, number>();
  const tty = !!stream.isTTY;
  let statusShown = false;

  const clearStatus = () => {
    if (tty && statusShown) stream.write('\r\x1b[K');
    statusShown = false;
  };
  const drawStatus = () => {
    if (!tty || running.size === 0) return;
    const now = Date.now();
    const items = [...running].map(([item, since]) => `${item} ${seconds(now - since)}`);
    const line = `  … ${items.join(', ')}`;
    const width = (stream as { columns?: number }).columns ?? 100;
    stream.write(line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line);
    statusShown = true;
  };

  return (event) => {
    if (event.state === 'start') {
      running.set(event.item, Date.now());
      clearStatus();
      drawStatus();
      return;
    }
    running.delete(event.item);
    clearStatus();
    const state = event.state.padEnd(9);
    const time = seconds(event.elapsedMs).padStart(7);
    stream.write(`${event.stage}: ${state} ${time}  ${event.item}${event.detail ? `  ${event.detail}` : ''}\n`);
    drawStatus();
  };
}
