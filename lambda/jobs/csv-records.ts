/**
 * A CSV file with a header as Python's `csv.DictReader` reads it with the default
 * (excel) dialect — what lava's foreach csv generator uses: `,` between fields,
 * `"` quotes with `""` inside, CR/LF or LF line ends, blank lines skipped; a short
 * row lacks nothing (missing fields are None), extra fields go under `null`'s key
 * as DictReader's `restkey` (here: they are an error, naming the line).
 */
import { LavaError } from "../shared/errors";

/** The rows of `text` as lists of fields, each with its line number. */
function rows(text: string, at: string): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      any = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      any = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (any || field !== "") out.push({ fields: [...fields, field], line: start });
      fields = [];
      field = "";
      any = false;
      line++;
      start = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new LavaError(`${at}: line ${start}: unexpected end of data inside quotes`);
  if (any || field !== "") out.push({ fields: [...fields, field], line: start });
  return out;
}

/** Records keyed by the header's names, in file order. */
export function parseCsvRecords(text: string, at: string): Record<string, string | null>[] {
  const [header, ...body] = rows(text.replace(/^\uFEFF/, ""), at);
  if (!header) return [];
  return body.map(({ fields, line }) => {
    if (fields.length > header.fields.length)
      throw new LavaError(
        `${at}: line ${line}: ${fields.length} fields, the header has ${header.fields.length}`,
      );
    return Object.fromEntries(header.fields.map((name, k) => [name, fields[k] ?? null]));
  });
}
