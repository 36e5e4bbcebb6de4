/** The `KvIterator` plumbing both engines share: pairs come from a source in chunks. */
import type { KvIterator, KvPair } from './traits/index.js';

/** Where the pairs come from. `fetch` returns an empty array at the end. */
export interface ChunkSource {
  fetch(): Promise<KvPair[]>;
  release(): Promise<void>;
}

export class ChunkedIterator implements KvIterator {
  private buf: KvPair[] = [];
  private pos = 0;
  private done = false;
  private closed = false;

  constructor(private readonly source: ChunkSource) {}

  async next(): Promise<KvPair | undefined> {
    if (this.pos < this.buf.length) return this.buf[this.pos++];
    const chunk = await this.nextChunk();
    if (chunk.length === 0) return undefined;
    this.buf = chunk;
    this.pos = 1;
    return chunk[0];
  }

  async nextChunk(): Promise<KvPair[]> {
    if (this.pos < this.buf.length) {
      const rest = this.buf.slice(this.pos);
      this.buf = [];
      this.pos = 0;
      return rest;
    }
    if (this.done) return [];
    let chunk: KvPair[];
    try {
      chunk = await this.source.fetch();
    } catch (e) {
      await this.close();
      throw e;
    }
    if (chunk.length === 0) {
      this.done = true;
      await this.close();
    }
    return chunk;
  }

  async close(): Promise<void> {
    this.done = true;
    this.buf = [];
    this.pos = 0;
    if (this.closed) return;
    this.closed = true;
    await this.source.release();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<KvPair> {
    try {
      for (;;) {
        const p = await this.next();
        if (p === undefined) return;
        yield p;
      }
    } finally {
      await this.close();
    }
  }
}
