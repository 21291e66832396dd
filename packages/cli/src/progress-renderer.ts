import type { Writable } from 'node:stream';
import type { KefuLogger } from '@kefu/core';

/** The progress fields the renderer reads (a structural subset of core's SyncProgressEvent). */
export interface ProgressEventView {
  type: string;
  target?: string;
  records: number;
  pages: number;
  retries: number;
  lagMs?: number;
  checkpoint?: { recordAt?: string };
  /** The target's final status, on `target-done` / `target-failed`. */
  status?: string;
  error?: unknown;
  /** A provider's warning, on `warning` events. */
  warning?: { code: string; message: string };
}

interface TargetProgress {
  records: number;
  pages: number;
  retries: number;
  status: string;
  recordAt?: number;
  startedAt: number;
}

const BAR_WIDTH = 20;

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * Shows sync progress: on a TTY a live block of bars (records, pages, rate, retries,
 * ETA per account) with log lines printed above it ({@link ProgressRenderer.printAbove}),
 * elsewhere structured JSON log lines (at most one per target per second, plus every
 * state change).
 */
export class ProgressRenderer {
  readonly #targets = new Map<string, TargetProgress>();
  readonly #output: Writable & { isTTY?: boolean };
  readonly #logger: KefuLogger;
  readonly #from: number;
  readonly #to: number;
  readonly #lastLogged = new Map<string, number>();
  #drawnLines = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { output: Writable & { isTTY?: boolean }; logger: KefuLogger; from: Date; to: Date }) {
    this.#output = options.output;
    this.#logger = options.logger;
    this.#from = options.from.getTime();
    this.#to = options.to.getTime();
    if (this.interactive) this.#timer = setInterval(() => this.#draw(), 200);
  }

  /** True when drawing bars (stderr is a terminal). */
  get interactive(): boolean {
    return this.#output.isTTY === true;
  }

  /** Takes one progress event. */
  update(event: ProgressEventView): void {
    if (!event.target) {
      if (!this.interactive && (event.type === 'started' || event.type === 'done'))
        this.#logger.info(`sync ${event.type}`, { records: event.records });
      return;
    }
    const now = Date.now();
    const state = this.#targets.get(event.target) ?? {
      records: 0,
      pages: 0,
      retries: 0,
      status: 'running',
      startedAt: now,
    };
    state.records = event.records;
    state.pages = event.pages;
    state.retries = event.retries;
    if (event.checkpoint?.recordAt) state.recordAt = Date.parse(event.checkpoint.recordAt);
    // target-done also ends stopped and quota-exhausted targets: they are not 100 % done.
    if (event.type === 'target-done') state.status = event.status ?? 'done';
    if (event.type === 'target-failed') state.status = 'failed';
    this.#targets.set(event.target, state);
    if (!this.interactive) this.#log(event, state, now);
  }

  /**
   * Prints `text` (a log line) above the live block: the block is erased, the line
   * written, and the block drawn again below it, so log lines never overwrite the bars.
   * Without a terminal the text is written as is.
   */
  printAbove(text: string): void {
    if (!this.interactive || this.#drawnLines === 0) {
      this.#output.write(`${text}\n`);
      return;
    }
    // Up to the block's first line, erase to the end of the screen, then the line, then the block.
    this.#output.write(`\u001b[${this.#drawnLines}F\u001b[0J${text}\n`);
    this.#drawnLines = 0;
    this.#draw();
  }

  /** Draws the final state and stops redrawing. */
  finish(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.interactive) this.#draw();
  }

  #log(event: ProgressEventView, state: TargetProgress, now: number): void {
    const stateChange = event.type !== 'batch-committed' && event.type !== 'page';
    const last = this.#lastLogged.get(event.target ?? '') ?? 0;
    if (!stateChange && now - last < 1000) return;
    this.#lastLogged.set(event.target ?? '', now);
    this.#logger.info(`sync ${event.type}`, {
      target: event.target,
      records: state.records,
      pages: state.pages,
      retries: state.retries,
      ...(event.lagMs === undefined ? {} : { lagMs: event.lagMs }),
      ...(event.error ? { error: event.error } : {}),
      ...(event.warning ? { warning: event.warning } : {}),
    });
  }

  #fraction(state: TargetProgress): number {
    if (state.status === 'done') return 1;
    if (state.recordAt === undefined || this.#to <= this.#from) return 0;
    return Math.min(1, Math.max(0, (state.recordAt - this.#from) / (this.#to - this.#from)));
  }

  #draw(): void {
    const now = Date.now();
    const lines = [...this.#targets.entries()].map(([target, state]) => {
      const fraction = this.#fraction(state);
      const filled = Math.round(fraction * BAR_WIDTH);
      const elapsed = now - state.startedAt;
      const rate = elapsed > 0 ? (state.records * 1000) / elapsed : 0;
      const eta =
        fraction > 0 && fraction < 1 ? (elapsed * (1 - fraction)) / fraction : state.status === 'done' ? 0 : Number.NaN;
      const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
      return `${target.padEnd(28)} ${bar} ${String(state.records).padStart(9)} records ${String(state.pages).padStart(6)} pages ${rate.toFixed(0).padStart(7)}/s ${state.retries} retries ETA ${formatDuration(eta)} ${state.status}`;
    });
    // Move up over the previous block, then redraw every line in place.
    const up = this.#drawnLines > 0 ? `\u001b[${this.#drawnLines}F` : '';
    this.#output.write(`${up}${lines.map((line) => `\u001b[2K${line}`).join('\n')}\n`);
    this.#drawnLines = lines.length;
  }
}
