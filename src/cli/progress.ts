import type { ProgressCallback, ProgressEvent } from '../types.js';

export interface ProgressReporterOptions {
  /** Emit JSON lines on stdout instead of a bar. */
  json: boolean;
  /** Stream the bar goes to (stderr). A bar is drawn only when it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Minimum ms between redraws / JSON lines. Default 200 (JSON: 1000). */
  intervalMs?: number;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Rate over the whole stage so far, in items/s, and the ETA it implies. */
export function rateAndEta(e: ProgressEvent, elapsedS: number): { rate: number; etaS: number } {
  const rate = elapsedS > 0 ? e.done / elapsedS : 0;
  const etaS = rate > 0 ? (e.total - e.done) / rate : Number.POSITIVE_INFINITY;
  return { rate, etaS };
}

/**
 * Turns progress events into a bar with count, rate and ETA on a terminal, JSON
 * lines with --json, and nothing otherwise (logs of cron jobs stay clean).
 */
export class ProgressReporter {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly starts = new Map<string, number>();
  private last = 0;
  private drawn = false;

  constructor(private readonly options: ProgressReporterOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !options.json;
  }

  readonly callback: ProgressCallback = (e) => {
    const now = performance.now();
    if (!this.starts.has(e.stage)) this.starts.set(e.stage, now);
    const finished = e.done >= e.total;
    const interval = this.options.intervalMs ?? (this.options.json ? 1000 : 200);
    if (!finished && e.done !== 0 && now - this.last < interval) return;
    this.last = now;
    const elapsed = (now - (this.starts.get(e.stage) ?? now)) / 1000;
    const { rate, etaS } = rateAndEta(e, elapsed);
    if (this.options.json) {
      process.stdout.write(
        JSON.stringify({
          event: 'progress',
          stage: e.stage,
          done: e.done,
          total: e.total,
          failed: e.failed ?? 0,
          rate: Number(rate.toFixed(2)),
          eta_s: Number.isFinite(etaS) ? Math.round(etaS) : null,
          ...(e.note ? { note: e.note } : {}),
        }) + '\n',
      );
      return;
    }
    if (!this.tty) return;
    const width = 28;
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    const fill = Math.round(frac * width);
    const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
    const failed = e.failed ? `  ${e.failed} failed` : '';
    const note = e.note ? `  ${e.note}` : '';
    const line = `${e.stage.padEnd(11)} ${bar} ${e.done}/${e.total}  ${rate.toFixed(1)}/s  ETA ${formatDuration(etaS)}${failed}${note}`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
    if (finished) this.end();
  };

  /** Ends the current bar line (call before printing anything else). */
  end(): void {
    if (this.drawn) {
      this.stream.write('\n');
      this.drawn = false;
    }
  }
}
