/**
 * lava-sql's html format (bin/lava-sql HtmlWriter): one Jinja2 template per
 * SELECT, rendered with autoescape, its whitespace and all. Each value is
 * `str(value)` escaped as markupsafe escapes (`& < > ' "` to `&amp; &lt; &gt;
 * &#39; &#34;`), so NULL is `None`, booleans `True`/`False`. The header (lava-sql's
 * `--header`, sqlv's `header`) is the column names; with no columns there is none.
 */
import { type PyCell, pyStr } from "./py-values";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&#39;",
  '"': "&#34;",
};
const htmlEscape = (s: string) => s.replace(/[&<>'"]/g, (c) => ESCAPES[c] ?? c);

/** Indents of lava-sql's template lines. */
const [I8, I12, I16, I20] = [8, 12, 16, 20].map((n) => `\n${" ".repeat(n)}`);

/**
 * The table in three parts, concatenated in order: `start`, one `row` per
 * result row, `end`.
 */
export function htmlWriter(): {
  start(header: readonly string[] | null): string;
  row(cells: readonly PyCell[]): string;
  end(): string;
} {
  return {
    start(header) {
      const head = header?.length
        ? `<THEAD>${I16}<TR>${I20}${header.map((h) => `<TH>${htmlEscape(h)}</TH>${I20}`).join("")}` +
          `${I16}</TR>${I12}</THEAD>`
        : "";
      return `<TABLE class="lava-sql">${I12}${head}${I12}<TBODY>`;
    },
    row(cells) {
      const tds = cells.map((c) => `<TD>${htmlEscape(pyStr(c))}</TD>${I20}`).join("");
      return `${I16}<TR>${I20}${tds}${I16}</TR>${I12}`;
    },
    end: () => `${I12}</TBODY>${I8}</TABLE>\n    `,
  };
}
