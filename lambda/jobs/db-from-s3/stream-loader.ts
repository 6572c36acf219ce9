/**
 * Plain PostgreSQL loads (docs/db-from-s3.md §8.3): the object streams from S3, through
 * gunzip when GZIP, into `COPY … FROM STDIN` in this process, with
 * backpressure end to end and bounded memory. Lava downloads to disk and runs
 * psql; we stream.
 */
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { from as copyFrom } from "pg-copy-streams";
import {
  BadDataError,
  DatabaseServerError,
  isRetryableSqlState,
  LoadTimeoutError,
} from "../../shared/errors";
import { openObject, s3Url } from "../../shared/s3-objects";
import { copyInBatches } from "./batched-copy";
import type { Loader, LoadRequest } from "./loader";
import { countLines } from "./records";

/** zlib's default 16 KiB output chunks mean many small CopyData messages; 64 KiB is measurably faster. */
const GUNZIP_CHUNK = 64 * 1024;

/** The COPY statement for a request. */
export function copySql(
  req: Pick<LoadRequest, "table" | "columns" | "options">,
  source = "STDIN",
): string {
  const cols = req.columns ? ` (${req.columns.join(", ")})` : "";
  return `COPY ${req.table}${cols} FROM ${source}${req.options ? ` WITH ${req.options}` : ""}`;
}

/**
 * Turn a failure during COPY into an error naming the object and, for bad
 * data, the line PostgreSQL reports (`where`: "COPY t, line 3, column id: …").
 */
export function copyError(err: unknown, url: string): Error {
  const e = err as Error & { code?: string; where?: string };
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code === "57014") {
    return new LoadTimeoutError(
      `${url}: load cancelled at the run's deadline (statement_timeout)`,
      { cause: err },
    );
  }
  if (
    code?.startsWith("22") ||
    code?.startsWith("23") ||
    code === "Z_DATA_ERROR" ||
    code === "Z_BUF_ERROR"
  ) {
    const m = /line (\d+)(?:, column ([^:]+))?/.exec(e.where ?? "");
    const line = m?.[1] ? Number(m[1]) : undefined;
    const at = line === undefined ? "" : ` line ${line}${m?.[2] ? `, column ${m[2]}` : ""}:`;
    const what = code.startsWith("Z_") ? `not valid gzip data (${e.message})` : e.message;
    return new BadDataError(`bad data in ${url}:${at} ${what}`, {
      cause: err,
      code,
      ...(line ? { line } : {}),
    });
  }
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    return new DatabaseServerError(`${url}: COPY failed: ${e.message}`, {
      cause: err,
      code,
      retryable: isRetryableSqlState(code),
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * An object's way to COPY with its progress (`req.onBytes`): the bytes read from
 * S3, and with `req.countRows` the lines passed on (after gunzip), until the
 * last byte; `end` reports the rows loaded with the bytes once the load is over.
 */
function progressStages(req: LoadRequest): {
  readonly stages: Transform[];
  end(rows: number): void;
} {
  let bytes = 0;
  let lines = 0;
  const counting = req.countRows === true && req.onBytes !== undefined;
  const read = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (counting && !req.gzip) lines += countLines(chunk);
      // The last byte is reported by `end`, with the rows COPY counted.
      if (bytes < req.object.size) req.onBytes?.(bytes, counting ? lines : undefined);
      done(null, chunk);
    },
  });
  const gunzip = req.gzip ? [createGunzip({ chunkSize: GUNZIP_CHUNK })] : [];
  const decoded =
    counting && req.gzip
      ? [
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              lines += countLines(chunk);
              done(null, chunk);
            },
          }),
        ]
      : [];
  return {
    stages: [read, ...gunzip, ...decoded],
    end: (rows) => req.onBytes?.(bytes, counting ? rows : undefined),
  };
}

export const streamLoader: Loader = {
  name: "client COPY",
  async load(req: LoadRequest): Promise<number> {
    if (req.records) return loadCarefully(req, req.records);
    const url = s3Url(req.object.bucket, req.object.key);
    const body = await openObject(req.s3, req.object);
    const copy = req.client.query(copyFrom(copySql(req)));
    const progress = progressStages(req);
    try {
      await pipeline([body, ...progress.stages, copy]);
    } catch (err) {
      throw copyError(err, url);
    }
    progress.end(copy.rowCount);
    return copy.rowCount;
  },
};

/** The careful path of the streaming loader: batches under savepoints (batched-copy.ts). */
async function loadCarefully(
  req: LoadRequest,
  records: NonNullable<LoadRequest["records"]>,
): Promise<number> {
  const url = s3Url(req.object.bucket, req.object.key);
  const body = await openObject(req.s3, req.object);
  const progress = progressStages(req);
  let rows = 0;
  const sink = async (source: AsyncIterable<Buffer>) => {
    rows = await copyInBatches(source, {
      client: req.client,
      sql: copySql(req),
      bucket: req.object.bucket,
      key: req.object.key,
      ...records,
    });
  };
  try {
    // The array form takes an async function as the last stage too; its typings do not say so.
    await pipeline([body, ...progress.stages, sink] as unknown as NodeJS.ReadWriteStream[]);
  } catch (err) {
    throw copyError(err, url);
  }
  progress.end(rows);
  return rows;
}
