/** The `utils` template variable: pure helpers, Python-flavoured. */
import { randomUUID } from "node:crypto";
import { type PyDateTime, pyDateTime } from "./py-datetime";

function str(value: unknown, fn: string): string {
  if (typeof value !== "string") throw new TypeError(`${fn}() argument must be a string`);
  return value;
}

/** Python `posixpath.basename`. */
function basename(path: unknown): string {
  const p = str(path, "basename");
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Python `posixpath.dirname`. */
function dirname(path: unknown): string {
  const p = str(path, "dirname");
  const head = p.slice(0, p.lastIndexOf("/") + 1);
  return head !== "" && !/^\/+$/.test(head) ? head.replace(/\/+$/, "") : head;
}

/** Python `posixpath.splitext`: leading dots of the file name are not an extension. */
function splitext(path: unknown): [string, string] {
  const p = str(path, "splitext");
  const sep = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) {
      if (p[i] !== ".") return [p.slice(0, dot), p.slice(dot)];
    }
  }
  return [p, ""];
}

const ALWAYS_SAFE = /[A-Za-z0-9_.~-]/;

/** Python `urllib.parse.quote(s, safe="/")` (UTF-8). */
function urlquote(value: unknown, safe: unknown = "/"): string {
  const s = str(value, "urlquote");
  const keep = typeof safe === "string" ? safe : "/";
  const encoder = new TextEncoder();
  let out = "";
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || (ch.length === 1 && keep.includes(ch))) {
      out += ch;
    } else {
      for (const byte of encoder.encode(ch)) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
    }
  }
  return out;
}

/** Python `urllib.parse.unquote` (UTF-8, bad bytes replaced; `+` stays `+`). */
function urlunquote(value: unknown): string {
  const s = str(value, "urlunquote");
  const decoder = new TextDecoder("utf-8");
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    }
    return decoder.decode(bytes);
  });
}

/**
 * The `utils` template variable: pure helpers for lava-style templates.
 * `basename`, `dirname`, `splitext` (→ `[root, ext]`) with Python
 * `os.path` semantics; `uuid()`; `now()`/`utcnow()` as {@link pyDateTime};
 * `urlquote(s, safe="/")`/`urlunquote(s)` as Python's `urllib.parse`.
 * Nothing reads the environment or files: templates must not reach secrets.
 */
export function templateUtils(): Record<string, unknown> {
  return {
    basename,
    dirname,
    splitext,
    uuid: (): string => randomUUID(),
    now: (): PyDateTime => pyDateTime(new Date(), "local"),
    utcnow: (): PyDateTime => pyDateTime(new Date(), "utc"),
    urlquote,
    urlunquote,
  };
}
