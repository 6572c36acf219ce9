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
 *
 * Linear in the buffer: the next newline, quote and escape are each searched for
 * once and kept until the scan passes them (a search per record for a quote that
 * is not there would read the rest of the buffer every time); without `ends`, once
 * no quote (CSV) or backslash (text) is left, the last newline is the answer.
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
  // The next offset of each character at or after p (-1: none left; -2: not searched yet).
  let nl = -2;
  let q = -2;
  let e = -2;
  const next = (c: number, known: number) =>
    known === -1 || known >= p ? known : buf.indexOf(c, p);
  /** No quote or escape left: every newline from p on ends a record. */
  const rest = () => {
    const l = buf.lastIndexOf(LF);
    return l >= p ? l + 1 : last;
  };
  while (p < n) {
    if (!syntax.csv) {
      e = next(syntax.escape, e);
      if (e < 0 && !ends) return rest();
      nl = next(LF, nl);
      if (e >= 0 && (nl < 0 || e < nl)) {
        if (e + 1 >= n) {
          state.pending = true;
          return last;
        }
        p = e + 2;
        continue;
      }
      if (nl < 0) return last;
      last = nl + 1;
      ends?.push(last);
      p = last;
      continue;
    }
    if (!state.inQuote) {
      q = next(syntax.quote, q);
      if (q < 0 && !ends) return rest();
      nl = next(LF, nl);
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
    q = next(syntax.quote, q);
    e = syntax.escape === syntax.quote ? -1 : next(syntax.escape, e);
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
  if (end - start < 256) {
    let count = 0;
    let p = buf.indexOf(LF, start);
    while (p >= 0 && p < end) {
      count += 1;
      p = buf.indexOf(LF, p + 1);
    }
    return count;
  }
  // Four bytes at a time (about 3× a search per newline on a batch of short records):
  // each byte lane of the word that equals LF adds 1 to that lane of `acc`, summed
  // across the lanes every 255 words, before a lane could overflow.
  let count = 0;
  let i = start;
  for (; i < end && (buf.byteOffset + i) % 4 !== 0; i++) if (buf[i] === LF) count += 1;
  const words = Math.floor((end - i) / 4);
  const u = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
  for (let k = 0; k < words; ) {
    const stop = Math.min(words, k + 255);
    let acc = 0;
    for (; k < stop; k++) {
      const x = (u[k] as number) ^ 0x0a0a0a0a;
      // The high bit of a lane is clear exactly when the lane is 0 (no carry across lanes).
      acc += (~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) >>> 7) & 0x01010101;
    }
    count += (acc & 0xff) + ((acc >>> 8) & 0xff) + ((acc >>> 16) & 0xff) + (acc >>> 24);
  }
  for (i += words * 4; i < end; i++) if (buf[i] === LF) count += 1;
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
