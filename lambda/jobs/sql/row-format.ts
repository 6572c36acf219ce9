/**
 * A statement's result tuples as the bytes lava writes (docs/sql-jobs.md §5):
 * each PostgreSQL text value turned into the value lava's driver hands Python
 * (`py-cells.ts`), written as Python's csv.writer or lava-sql's jsonl and html
 * writers write it.
 * A stream that pulls one batch at a time, so the S3 upload's backpressure
 * reaches the database cursor.
 */
import { Readable } from "node:stream";
import { csvWriter } from "./csv-writer";
import { htmlWriter } from "./html-writer";
import { jsonlWriter } from "./jsonl-writer";
import type { SqlParams } from "./params";
import { cellFromPg, columnText } from "./py-cells";
import type { Column } from "./session";

export interface RowFormat {
  stream(
    columns: readonly Column[],
    batches: AsyncIterable<readonly (string | null)[][]>,
  ): Readable;
}

/** Encode each batch into one chunk of text, between `head` and `tail`. */
function encoded(
  head: string,
  batches: AsyncIterable<readonly (string | null)[][]>,
  line: (row: readonly (string | null)[]) => string,
  tail = "",
): Readable {
  async function* chunks() {
    if (head) yield Buffer.from(head);
    for await (const batch of batches) yield Buffer.from(batch.map(line).join(""));
    if (tail) yield Buffer.from(tail);
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 1 << 20 });
}

const cells = (row: readonly (string | null)[], columns: readonly Column[]) =>
  row.map((v, i) => cellFromPg(v, columns[i]?.typeOid ?? 0));

export function rowFormat(p: Pick<SqlParams, "format" | "csv" | "header">): RowFormat {
  if (p.format === "html") {
    const writer = htmlWriter();
    return {
      stream: (columns, batches) =>
        encoded(
          writer.start(p.header ? columns.map((c) => c.name) : null),
          batches,
          (row) => writer.row(cells(row, columns)),
          writer.end(),
        ),
    };
  }
  if (p.format === "jsonl") {
    const writer = jsonlWriter({ sortKeys: false });
    return {
      stream: (columns, batches) => {
        const names = columns.map((c) => c.name);
        return encoded("", batches, (row) => writer.row(names, cells(row, columns)));
      },
    };
  }
  return {
    stream: (columns, batches) => {
      const names = columns.map((c) => c.name);
      // Names in messages ("column 2 (\"note\")"); converters chosen once per column.
      const writer = csvWriter(p.csv, names);
      const converters = columns.map((c) => columnText(c.typeOid));
      return encoded(p.header ? writer.header(names) : "", batches, (row) =>
        writer.textRow(converters, row),
      );
    },
  };
}
