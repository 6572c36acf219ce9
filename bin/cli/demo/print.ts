/** Terminal output of `lava-aurora demo`: numbered steps, ✓/✗ checks, small aligned tables. */

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], cyan: [36, 39] };
type Style = keyof typeof CODES;

/** Whether to colour: a terminal, and NO_COLOR unset or empty (https://no-color.org). */
export function useColour(out: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return out.isTTY === true && (env.NO_COLOR ?? "") === "";
}

/** A table to show: its name, column names and rows of text (NULL as undefined). */
export interface ShownTable {
  name: string;
  columns: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

/** Word-wrap `text` (keeping its leading spaces) to `width` columns; continuation lines get `indent`. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lead = /^ */.exec(text)?.[0] ?? "";
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(" ")) {
    const fresh = line === lead || line === indent;
    const candidate = fresh ? `${line}${word}` : `${line} ${word}`;
    if ([...candidate].length > width && !fresh) {
      lines.push(line);
      line = `${indent}${word}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines;
}

const width = (s: string) => [...s].length;

/** Writes the demo's story; counts failed checks. */
export class Printer {
  #muted = false;
  #failures = 0;
  #checks = 0;
  #step = 0;
  readonly #width: number;

  readonly #out: NodeJS.WritableStream;

  constructor(
    out: NodeJS.WritableStream,
    private readonly colour: boolean,
    columns = 80,
  ) {
    this.#width = Math.max(60, Math.min(columns, 100));
    this.#out = out;
  }

  /** Write nothing from now on (after Ctrl-C). */
  mute(): void {
    this.#muted = true;
  }

  private get out(): { write(text: string): void } {
    return this.#muted ? { write: () => undefined } : this.#out;
  }

  /** How many checks failed so far. */
  get failures(): number {
    return this.#failures;
  }

  /** How many checks ran so far. */
  get checks(): number {
    return this.#checks;
  }

  style(style: Style, text: string): string {
    if (!this.colour) return text;
    const [on, off] = CODES[style];
    return `\x1b[${on}m${text}\x1b[${off}m`;
  }

  #line(text: string, indent: string, hang = indent): void {
    for (const l of wrap(`${indent}${text}`, this.#width, hang)) this.out.write(`${l}\n`);
  }

  /** A heading line (no number). */
  title(text: string): void {
    this.out.write(`${this.style("bold", text)}\n`);
  }

  /** Starts the next numbered step. */
  step(text: string): void {
    this.#step += 1;
    const n = `${this.#step}.`.padEnd(4);
    this.out.write("\n");
    for (const [i, l] of wrap(text, this.#width - 4, "").entries())
      this.out.write(`${i === 0 ? n : "    "}${this.style("bold", l)}\n`);
  }

  /** One expectation: ✓ when it held, ✗ (and counted) when not. Returns `ok`. */
  check(ok: boolean, text: string): boolean {
    this.#checks += 1;
    if (!ok) this.#failures += 1;
    const mark = ok ? "✓" : "✗";
    const [first = "", ...rest] = wrap(`    ${mark} ${text}`, this.#width, "      ");
    // Colour after wrapping, so escape codes never count as width.
    const coloured = this.style(ok ? "green" : "red", mark);
    this.out.write(`    ${coloured}${first.slice(5)}\n`);
    for (const l of rest) this.out.write(`${l}\n`);
    return ok;
  }

  /** A plain indented line (wrapped). */
  info(text: string): void {
    this.#line(text, "    ", "      ");
  }

  /** A dimmed indented line (wrapped): what the runner said, paths. */
  note(text: string): void {
    for (const l of wrap(`    ${text}`, this.#width, "      "))
      this.out.write(`${this.style("dim", l)}\n`);
  }

  /** `name: N rows` and the rows, columns aligned (an empty table is one line). */
  table(t: ShownTable): void {
    const count = `${t.rows.length} ${t.rows.length === 1 ? "row" : "rows"}`;
    this.out.write(
      `      ${this.style("cyan", t.name)}: ${t.rows.length === 0 ? "empty" : count}\n`,
    );
    if (t.rows.length === 0) return;
    const cells = t.rows.map((r) => r.map((c) => c ?? "NULL"));
    const widths = t.columns.map((c, i) =>
      Math.max(width(c), ...cells.map((r) => width(r[i] ?? ""))),
    );
    const fmt = (r: readonly string[]) =>
      r
        .map((c, i) => c + " ".repeat((widths[i] ?? 0) - width(c)))
        .join("  ")
        .trimEnd();
    this.out.write(`        ${this.style("dim", fmt(t.columns))}\n`);
    for (const r of cells) this.out.write(`        ${fmt(r)}\n`);
  }

  /** A blank line then text, unindented. */
  para(text: string): void {
    this.out.write("\n");
    this.#line(text, "");
  }

  /** Raw lines, unindented, never wrapped (commands to copy). */
  raw(text: string): void {
    this.out.write(`${text}\n`);
  }
}
