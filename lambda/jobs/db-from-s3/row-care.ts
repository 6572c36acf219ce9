/**
 * What a load does with rows beyond loading them: bad-row quarantine (docs/db-from-s3.md
 * §16) and lineage columns (§17) — the careful path's settings for each object,
 * the lineage columns' definitions, and the reject file under s3_temp.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ClientBase } from "pg";
import { BadDataError, SpecError, TargetStateError } from "../../shared/errors";
import { parseS3Location, s3Url } from "../../shared/s3-objects";
import type { RejectedRow } from "./batched-copy";
import { quoteIdent } from "./identifiers";
import type { LoadRequest } from "./loader";
import type { LoadParams } from "./params";
import { type RecordSyntax, recordSyntax } from "./records";

/** The lineage columns a load fills, in the order their values follow each record. */
export function lineageColumns(p: LoadParams): { name: string; type: string; kind: string }[] {
  const l = p.lineage;
  if (!l) return [];
  return [
    ...(l.sourceKey ? [{ name: l.sourceKey, type: "text", kind: "source_key" }] : []),
    ...(l.sourceLine ? [{ name: l.sourceLine, type: "bigint", kind: "source_line" }] : []),
    ...(l.runId ? [{ name: l.runId, type: "text", kind: "run_id" }] : []),
  ];
}

/** Column definitions to create the table with: the job's, then the lineage columns. */
export function columnDefsWithLineage(p: LoadParams): string[] | undefined {
  if (!p.columns) return undefined;
  return [
    ...p.columns.map((c) => c.definition),
    ...lineageColumns(p).map((c) => `${quoteIdent(c.name)} ${c.type}`),
  ];
}

/** Fail, with the statements that fix it, when the table lacks a lineage column. */
export async function checkLineageColumns(
  client: ClientBase,
  table: string,
  p: LoadParams,
): Promise<void> {
  const wanted = lineageColumns(p);
  if (wanted.length === 0) return;
  const { rows } = await client.query<{ attname: string }>(
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
    [table],
  );
  const have = new Set(rows.map((r) => r.attname));
  const missing = wanted.filter((c) => !have.has(c.name));
  if (missing.length)
    throw new TargetStateError(
      `lineage: table ${table} lacks ${missing.map((c) => quoteIdent(c.name)).join(", ")}: ${missing.map((c) => `ALTER TABLE ${table} ADD COLUMN ${quoteIdent(c.name)} ${c.type};`).join(" ")}`,
    );
}

/** A value as a field of the load's format: CSV quoted, text escaped. */
function field(value: string, syntax: RecordSyntax): string {
  if (syntax.csv) {
    const q = String.fromCharCode(syntax.quote);
    const e = String.fromCharCode(syntax.escape);
    return `${q}${value.replaceAll(q, `${e}${q}`)}${q}`;
  }
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

/** Collects a run's rejected rows and holds them to `max_bad_rows`. */
export class RejectLog {
  readonly rows: RejectedRow[] = [];

  constructor(private readonly limit: NonNullable<LoadParams["quarantine"]>) {}

  add(row: RejectedRow): void {
    this.rows.push(row);
    if (this.rows.length > this.limit.maxRows)
      throw new BadDataError(
        `more than ${this.limit.maxRows} bad rows (max_bad_rows); the last at ${row.object} line ${row.line}: ${row.error}: nothing loaded`,
        { code: row.sqlstate, line: row.line },
      );
  }

  /** After every object: the percentage limit, against all the rows seen. */
  checkShare(loaded: number): void {
    const pct = this.limit.maxPercent;
    const seen = loaded + this.rows.length;
    if (pct === undefined || this.rows.length === 0) return;
    if ((this.rows.length / seen) * 100 > pct)
      throw new BadDataError(
        `${this.rows.length} of ${seen} rows are bad (${((this.rows.length / seen) * 100).toFixed(2)}%), more than max_bad_rows ${pct}%: nothing loaded`,
        {},
      );
  }
}

/** The careful path's settings for one object, or undefined for the plain fast path. */
export function carefulRecords(
  p: LoadParams,
  obj: { key: string },
  runId: string,
  rejects: RejectLog | undefined,
): LoadRequest["records"] {
  if (!rejects && !p.lineage) return undefined;
  const syntax = recordSyntax(p.copy);
  const header = p.copy.options.some((o) => o.name === "HEADER" && o.value !== false);
  const d = syntax.delimiter;
  const lineage = lineageColumns(p);
  return {
    syntax,
    header,
    ...(rejects ? { reject: (row: RejectedRow) => rejects.add(row) } : {}),
    ...(lineage.length
      ? {
          suffix: (line: number) =>
            lineage
              .map(
                (c) =>
                  `${d}${c.kind === "source_key" ? field(obj.key, syntax) : c.kind === "source_line" ? String(line) : field(runId, syntax)}`,
              )
              .join(""),
        }
      : {}),
  };
}

/** Where a run's reject file goes: `<s3_temp>/<job_id>/<run_id>/rejects.csv`. */
export function rejectsLocation(
  s3Temp: string | undefined,
  jobId: string,
  runId: string,
): { bucket: string; key: string } {
  if (!s3Temp)
    throw new SpecError([
      `job ${jobId}: parameters.on_bad_rows: quarantine writes the bad rows under the realm's s3_temp, which it lacks`,
    ]);
  const { bucket, prefix } = parseS3Location(s3Temp);
  return { bucket, key: [prefix, jobId, runId, "rejects.csv"].filter(Boolean).join("/") };
}

const csvField = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Write the reject file (before the load commits: a failed write loses nothing). */
export async function writeRejects(
  s3: S3Client,
  where: { bucket: string; key: string },
  rows: readonly RejectedRow[],
): Promise<string> {
  const lines = ["object,line,sqlstate,error,record"];
  for (const r of rows)
    lines.push([r.object, r.line, r.sqlstate, r.error, r.record].map(csvField).join(","));
  await s3.send(
    new PutObjectCommand({
      Bucket: where.bucket,
      Key: where.key,
      Body: `${lines.join("\n")}\n`,
      ContentType: "text/csv",
    }),
  );
  return s3Url(where.bucket, where.key);
}
