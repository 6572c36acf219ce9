/** The part of a load that differs between Aurora (`aws_s3` import) and plain PostgreSQL (client COPY). */
import type { S3Client } from "@aws-sdk/client-s3";
import type { ClientBase } from "pg";
import type { SourceObject } from "../../shared/s3-objects";
import type { RejectedRow } from "./batched-copy";
import type { RecordSyntax } from "./records";

/** One object into one table, inside the run's transaction. */
export interface LoadRequest {
  readonly client: ClientBase;
  readonly s3: S3Client;
  readonly object: SourceObject;
  /** Quoted physical table. */
  readonly table: string;
  /** Quoted column names for the COPY column list; undefined = all columns. */
  readonly columns: readonly string[] | undefined;
  /** COPY option list, `(FORMAT csv, …)`, or "" for none. */
  readonly options: string;
  readonly gzip: boolean;
  /**
   * Bytes read so far from S3 (compressed size when gzip); with `countRows`, the
   * rows too: while the object streams, the lines passed to COPY so far (a
   * newline in a quoted CSV field, or a header, counts as one: COPY tells its
   * own count only at the end); at the end, the rows loaded, once more with the
   * bytes. A loader that learns the rows only at the end (aws_s3) reports them then.
   */
  readonly onBytes?: (bytes: number, rows?: number) => void;
  /** Count the rows for `onBytes` (a scan of the data for newlines). @default false */
  readonly countRows?: boolean;
  /**
   * The careful path (docs/db-from-s3.md §16, §17; streaming loader only): records
   * in batches under savepoints, bad ones set aside with `reject`, lineage fields
   * appended with `suffix`. `options` then hold no HEADER: `header` skips it here.
   */
  readonly records?: {
    readonly syntax: RecordSyntax;
    readonly header: boolean;
    readonly reject?: (row: RejectedRow) => void;
    readonly suffix?: (line: number) => string;
  };
}

export interface Loader {
  /** Human name for events (`client COPY`, `aws_s3 import`). */
  readonly name: string;
  /** Load the object; resolves to the number of rows loaded. */
  load(request: LoadRequest): Promise<number>;
}
