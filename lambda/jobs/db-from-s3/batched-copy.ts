/**
 * The streaming loader's careful path (docs/db-from-s3.md §16, §17): the object's
 * records go to COPY in batches of whole records, each under a SAVEPOINT. With
 * quarantine, a batch PostgreSQL refuses for a data error is rolled back and
 * searched for its bad records — the record COPY names, else by bisection
 * (pgloader's way) — which are set aside and the rest loaded. With quarantine
 * alone, a batch streams to its COPY as it is read (clean data: one COPY per batch,
 * reading overlapping PostgreSQL's work, as on the plain path). With lineage, each
 * record gets the object's key, its line and the run id appended as fields.
 * Memory: one batch (and its halves while searching), whatever the object's size.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ClientBase } from "pg";
import { type CopyStreamQuery, from as copyFrom } from "pg-copy-streams";
import { s3Url } from "../../shared/s3-objects";
import {
  countLines,
  freshState,
  type RecordSpan,
  type RecordSyntax,
  scanRecords,
  splitRecords,
} from "./records";

/** Bytes of records per COPY: few enough statements that clean data costs nothing measurable. */
export const BATCH_BYTES = 8 * 1024 * 1024;

/** A record set aside: where it was, what PostgreSQL said, and the record itself. */
export interface RejectedRow {
  readonly object: string;
  readonly line: number;
  readonly sqlstate: string;
  readonly error: string;
  readonly record: string;
}

export interface BatchedCopy {
  readonly client: ClientBase;
  /** `COPY … FROM STDIN WITH …` for one batch (no HEADER: the header is skipped here). */
  readonly sql: string;
  readonly syntax: RecordSyntax;
  /** The object has a header record to skip. */
  readonly header: boolean;
  readonly bucket: string;
  readonly key: string;
  /** Set bad records aside instead of failing; throw from it to stop (a limit reached). */
  readonly reject?: (row: RejectedRow) => void;
  /** Fields appended to every record, from its line: the lineage columns' values, already encoded. */
  readonly suffix?: (line: number) => string;
  /** @default BATCH_BYTES */
  readonly batchBytes?: number;
}

/** A batch whose COPY is open; its bytes so far are kept (`store`) in case PostgreSQL refuses them. */
interface OpenBatch {
  readonly stream: CopyStreamQuery;
  bytes: number;
  /** The file line of its first record. */
  readonly first: number;
  /** Settles when the COPY ends, either way. */
  done: Promise<void>;
  failed?: Error;
}

/** A data error PostgreSQL reports for a record (class 22 data exception, 23 integrity). */
function isDataError(err: unknown): err is Error & { code: string; where?: string } {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

/** The line a COPY failed at, from its context ("COPY t, line 3, column x: …"). */
function failedRecord(err: { where?: string }): number | undefined {
  const m = /COPY [^,]+, line (\d+)/.exec(err.where ?? "");
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Load a decoded stream of records; resolves to the rows loaded. */
export async function copyInBatches(body: AsyncIterable<Buffer>, c: BatchedCopy): Promise<number> {
  const url = s3Url(c.bucket, c.key);
  let rows = 0;
  let line = 1;
  let headerLeft = c.header;
  const state = freshState();
  let carry: Buffer = Buffer.alloc(0);
  let scanned = 0;
  const parts: Buffer[] = [];
  let partBytes = 0;

  const encode = (buf: Buffer, spans: readonly RecordSpan[]): Buffer => {
    const suffix = c.suffix;
    if (!suffix) return buf.subarray(spans[0]?.start ?? 0, spans.at(-1)?.end ?? 0);
    const out: Buffer[] = [];
    for (const s of spans) {
      let eol = s.end;
      if (buf[eol - 1] === 0x0a) eol -= 1;
      if (buf[eol - 1] === 0x0d) eol -= 1;
      out.push(buf.subarray(s.start, eol), Buffer.from(suffix(s.line)), buf.subarray(eol, s.end));
      if (eol === s.end) out.push(Buffer.from("\n"));
    }
    return Buffer.concat(out);
  };

  const copy = async (data: Buffer): Promise<number> => {
    const stream = c.client.query(copyFrom(c.sql));
    await pipeline(Readable.from([data]), stream);
    return stream.rowCount;
  };

  const attempt = async (data: Buffer): Promise<{ rows: number } | { err: Error }> => {
    await c.client.query("SAVEPOINT lava_batch");
    try {
      const n = await copy(data);
      await c.client.query("RELEASE SAVEPOINT lava_batch");
      return { rows: n };
    } catch (err) {
      await c.client.query("ROLLBACK TO SAVEPOINT lava_batch");
      await c.client.query("RELEASE SAVEPOINT lava_batch");
      if (!c.reject || !isDataError(err)) throw err;
      return { err };
    }
  };

  /** Load `spans` of `buf`, setting aside the records PostgreSQL refuses. */
  const search = async (
    buf: Buffer,
    spans: readonly RecordSpan[],
    known?: Error,
  ): Promise<void> => {
    if (spans.length === 0) return;
    const tried = known ? { err: known } : await attempt(encode(buf, spans));
    if ("rows" in tried) {
      rows += tried.rows;
      return;
    }
    const err = tried.err as Error & { code: string; where?: string };
    if (spans.length === 1) {
      const s = spans[0] as RecordSpan;
      c.reject?.({
        object: url,
        line: s.line,
        sqlstate: err.code,
        error: err.message,
        record: buf
          .subarray(s.start, s.end)
          .toString("utf8")
          .replace(/\r?\n$/, ""),
      });
      return;
    }
    // COPY's line is a hint, not the record's index: in CSV it also counts quoted
    // newlines (once the line ending is known), so it can point past the bad record.
    // Those before it are searched, it is tried alone (set aside only if refused
    // alone), the rest is searched.
    const at = failedRecord(err);
    if (at !== undefined && at >= 1 && at <= spans.length) {
      await search(buf, spans.slice(0, at - 1));
      await search(buf, spans.slice(at - 1, at));
      await search(buf, spans.slice(at));
      return;
    }
    const mid = Math.ceil(spans.length / 2);
    await search(buf, spans.slice(0, mid));
    await search(buf, spans.slice(mid));
  };

  const flush = async (): Promise<void> => {
    if (partBytes === 0) return;
    const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, partBytes);
    parts.length = 0;
    partBytes = 0;
    const first = line;
    line += countLines(buf);
    if (!c.reject && !c.suffix) {
      rows += await copy(buf);
      return;
    }
    const spans = splitRecords(buf, c.syntax, first);
    if (!c.reject) {
      rows += await copy(encode(buf, spans));
      return;
    }
    await search(buf, spans);
  };

  /**
   * Quarantine alone: each batch streams to its COPY as its records arrive (reading
   * and decoding overlap PostgreSQL's parsing, as on the plain path), its bytes copied
   * into one buffer reused from batch to batch (no garbage: a batch's chunks are not
   * kept); only a batch PostgreSQL refuses is split into records and searched.
   */
  let open: OpenBatch | undefined;
  const streamed = c.reject !== undefined && c.suffix === undefined;
  let store = Buffer.alloc(0);

  const begin = async (): Promise<OpenBatch> => {
    await c.client.query("SAVEPOINT lava_batch");
    const stream = c.client.query(copyFrom(c.sql));
    const b: OpenBatch = { stream, bytes: 0, first: line, done: Promise.resolve() };
    b.done = new Promise<void>((resolve) => {
      stream.on("finish", resolve);
      // Set at once: the stream must not be written once PostgreSQL refused the COPY.
      stream.on("error", (err) => {
        b.failed ??= err;
        resolve();
      });
    });
    return b;
  };

  /** Copy the pieces into the batch's buffer, and write them to its COPY as one. */
  const send = async (b: OpenBatch, pieces: readonly Buffer[]): Promise<void> => {
    const start = b.bytes;
    const end = pieces.reduce((n, x) => n + x.length, start);
    if (end === start) return;
    if (end > store.length) {
      // Once, at the first batch (or for a record longer than the room left).
      const room = Buffer.allocUnsafe(Math.max(end, (c.batchBytes ?? BATCH_BYTES) + 256 * 1024));
      store.copy(room, 0, 0, start);
      store = room;
    }
    for (const piece of pieces) {
      piece.copy(store, b.bytes);
      b.bytes += piece.length;
    }
    // The batch's writes are all in the socket once its COPY has ended, so the next
    // batch may reuse the buffer.
    const data = store.subarray(start, end);
    // Counted now, while the bytes are in the cache (a batch's worth is not).
    line += countLines(data);
    if (b.failed) return;
    // One write at a time, each awaited: pg-copy-streams goes on writing the chunks
    // queued in the stream after PostgreSQL refused the COPY (and throws, its
    // connection gone); a refused COPY settles the wait instead.
    await new Promise<void>((resolve) => {
      const go = () => {
        b.stream.off("error", go);
        resolve();
      };
      b.stream.on("error", go);
      b.stream.write(data, go);
    });
  };

  /** End the batch's COPY; a refused batch is rolled back and searched. */
  const close = async (b: OpenBatch): Promise<void> => {
    open = undefined;
    if (!b.failed) b.stream.end();
    await b.done;
    if (!b.failed) {
      await c.client.query("RELEASE SAVEPOINT lava_batch");
      rows += b.stream.rowCount;
      return;
    }
    await c.client.query("ROLLBACK TO SAVEPOINT lava_batch");
    await c.client.query("RELEASE SAVEPOINT lava_batch");
    if (!isDataError(b.failed)) throw b.failed;
    const buf = store.subarray(0, b.bytes);
    await search(buf, splitRecords(buf, c.syntax, b.first), b.failed);
  };

  /** Stop a batch's COPY (CopyFail) when the load fails with it open. */
  const abandon = async (): Promise<void> => {
    const b = open;
    open = undefined;
    if (!b) return;
    if (!b.failed) b.stream.destroy(new Error("load failed"));
    await b.done;
  };

  /** Pieces that end at a record end (each alone need not). */
  const takeStreamed = async (...pieces: Buffer[]): Promise<void> => {
    open ??= await begin();
    const b = open;
    await send(b, pieces);
    // Not a data error (a lost connection, the deadline): fail now, not at the batch's end.
    if (b.failed && !isDataError(b.failed)) await close(b);
    else if (b.bytes >= (c.batchBytes ?? BATCH_BYTES)) await close(b);
  };

  const take = async (complete: Buffer): Promise<void> => {
    let data = complete;
    if (headerLeft) {
      const ends: number[] = [];
      scanRecords(data, 0, c.syntax, freshState(), ends);
      const end = ends[0] ?? data.length;
      line += countLines(data, 0, end);
      data = data.subarray(end);
      headerLeft = false;
    }
    if (data.length === 0) return;
    if (streamed) return takeStreamed(data);
    parts.push(data);
    partBytes += data.length;
    if (partBytes >= (c.batchBytes ?? BATCH_BYTES)) await flush();
  };

  // One chunk read ahead: the next is decoded (gunzip in its thread) while this one is
  // scanned and written, as a pipe keeps reading while COPY writes. A read left
  // pending when the load fails settles unobserved (the caller ends the stream).
  const chunks = body[Symbol.asyncIterator]();
  const ahead = () => {
    const p = chunks.next();
    p.catch(() => undefined);
    return p;
  };
  try {
    let next = ahead();
    for (let got = await next; !got.done; got = await next) {
      const chunk = got.value;
      next = ahead();
      if (streamed && !headerLeft) {
        // The carry (the start of a record) and the chunk's whole records go as they
        // are: no copy of the chunk to join them (the batch buffer has them together).
        const end = scanRecords(chunk, 0, c.syntax, state);
        if (end < 0) {
          carry = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          continue;
        }
        await takeStreamed(carry, chunk.subarray(0, end));
        carry = chunk.subarray(end);
        continue;
      }
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const end = scanRecords(buf, scanned, c.syntax, state);
      if (end < 0) {
        carry = buf;
        scanned = buf.length;
        continue;
      }
      carry = buf.subarray(end);
      // The state is that after the whole buffer: the carry was scanned too.
      scanned = carry.length;
      await take(buf.subarray(0, end));
    }
    if (carry.length) await take(carry);
    if (open) await close(open);
    await flush();
  } catch (err) {
    await abandon();
    chunks.return?.().catch(() => undefined);
    throw err;
  }
  return rows;
}
