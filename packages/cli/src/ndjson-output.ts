import type { Writable } from 'node:stream';

/**
 * Writes NDJSON lines to a stream with backpressure, and notices a closed pipe
 * (`kefu records … | head`) so the producer stops cleanly instead of crashing on EPIPE.
 */
export class NdjsonOutput {
  #closed = false;
  readonly #stream: Writable;
  readonly #onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') this.#closed = true;
    else throw error;
  };

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', this.#onError);
  }

  /** True once the reader went away; stop producing. */
  get closed(): boolean {
    return this.#closed || this.#stream.destroyed;
  }

  /** Writes one value as a line; resolves when the stream can take more. */
  async write(value: unknown): Promise<void> {
    if (this.closed) return;
    const ok = this.#stream.write(`${JSON.stringify(value)}\n`);
    if (ok) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#stream.off('drain', done);
        this.#stream.off('close', done);
        this.#stream.off('error', done);
        resolve();
      };
      this.#stream.once('drain', done);
      this.#stream.once('close', done);
      this.#stream.once('error', done);
    });
  }
}
