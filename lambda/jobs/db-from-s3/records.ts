/**
 * Where COPY's records end in a data stream, found as PostgreSQL's own line
 * reader finds them (src/backend/commands/copyfromparse.c, CopyReadLineText):
 * a record ends at a newline outside quotes; in CSV every QUOTE character toggles
 * quoting wherever it stands, and inside quotes the ESCAPE character (the QUOTE
 * itself unless set) takes the next character; in text format a backslash takes
 * the next character, a newline included. Used to cut a stream into batches of
 * whole records and to find one bad record among them (docs/db-from-s3.md §16).
 */
import type { CopyArgs } from "./copy-options";

const LF = 0x0a;

/** The characters that decide where a record ends. */
export interface RecordSyntax {
  readonly csv: boolean;
  readonly quote: number;
  readonly escape: number;
  readonly delimiter: string;
}

export function recordSyntax(copy: CopyArgs): RecordSyntax {
  const opt = (name: "QUOTE" | "ESCAPE" | "DELIMITER") =>
    copy.options.find((o) => o.name === name) as { value: string } | undefined;
  const csv = copy.format === "csv";
  const quote = (opt("QUOTE")?.value ?? '"').charCodeAt(0);
  return {
    csv,
    quote,
    escape: csv ? (opt("ESCAPE")?.value ?? String.fromCharCode(quote)).charCodeAt(0) : 0x5c,
    delimiter: opt("DELIMITER")?.value ?? (csv ? "," : "\t"),
  };
}

/** Scanning state between chunks. */
export interface ScanState {
  inQuote: boolean;
  /** The previous chunk ended on an escape (or a quote that may be doubled). */
  pending: boolean;
}

export const freshState = (): ScanState => ({ inQuote: false, pending: false });

/**
 * Scan `buf` from `from` in `state` (updated); return the offset just after the
 * last record end (newline outside quotes) found, or -1. `ends`, when given,
 * receives every record end.
 */
export function scanRecords(
  buf: Buffer,
  from: number,
  syntax: RecordSyntax,
  state: ScanState,
  ends?: number[],
): number {
  let p = from;
  let last = -1;
  const n = buf.length;
  if (state.pending && p < n) {
    state.pending = false;
    if (syntax.csv && state.inQuote && syntax.escape === syntax.quote) {
      // A quote ended the last chunk: doubled it is a literal quote, else quoting ends.
      if (buf[p] === syntax.quote) p += 1;
      else state.inQuote = false;
    } else p += 1; // the escaped character
  }
  while (p < n) {
    if (!syntax.csv) {
      const nl = buf.indexOf(LF, p);
      const bs = buf.indexOf(syntax.escape, p);
      if (bs >= 0 && (nl < 0 || bs < nl)) {
        if (bs + 1 >= n) {
          state.pending = true;
          return last;
        }
        p = bs + 2;
        continue;
      }
      if (nl < 0) return last;
      last = nl + 1;
      ends?.push(last);
      p = last;
      continue;
    }
    if (!state.inQuote) {
      const nl = buf.indexOf(LF, p);
      const q = buf.indexOf(syntax.quote, p);
      if (q >= 0 && (nl < 0 || q < nl)) {
        state.inQuote = true;
        p = q + 1;
        continue;
      }
      if (nl < 0) return last;
      last = nl + 1;
      ends?.push(last);
      p = last;
      continue;
    }
    // Inside quotes: the next quote, or the escape before it.
    const q = buf.indexOf(syntax.quote, p);
    const e = syntax.escape === syntax.quote ? -1 : buf.indexOf(syntax.escape, p);
    if (e >= 0 && (q < 0 || e < q)) {
      if (e + 1 >= n) {
        state.pending = true;
        return last;
      }
      p = e + 2;
      continue;
    }
    if (q < 0) return last;
    if (syntax.escape === syntax.quote) {
      if (q + 1 >= n) {
        state.pending = true;
        return last;
      }
      if (buf[q + 1] === syntax.quote) {
        p = q + 2;
        continue;
      }
    }
    state.inQuote = false;
    p = q + 1;
  }
  return last;
}

/** Newlines in `buf` between offsets: physical lines, quoted newlines included. */
export function countLines(buf: Buffer, start = 0, end = buf.length): number {
  let count = 0;
  let p = buf.indexOf(LF, start);
  while (p >= 0 && p < end) {
    count += 1;
    p = buf.indexOf(LF, p + 1);
  }
  return count;
}

/** One record of a batch: its bytes (line end included) and the file line it starts on. */
export interface RecordSpan {
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

/** Split a batch of whole records (it starts at a record start) into records. */
export function splitRecords(buf: Buffer, syntax: RecordSyntax, firstLine: number): RecordSpan[] {
  const ends: number[] = [];
  scanRecords(buf, 0, syntax, freshState(), ends);
  if (ends.at(-1) !== buf.length && buf.length > 0) ends.push(buf.length);
  const spans: RecordSpan[] = [];
  let start = 0;
  let line = firstLine;
  for (const end of ends) {
    spans.push({ start, end, line });
    line += countLines(buf, start, end);
    start = end;
  }
  return spans;
}
