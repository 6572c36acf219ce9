/**
 * The `utils` template variable: lava's `JINJA_UTILS` (`lavacore.py`) —
 * `datetime`, `date`, `time`, `timedelta`, `dateutil`, `parsedate`
 * (`dateutil.parser`), `re`, `path` (`os.path`), `uuid` (`uuid4`),
 * `s3bucket`, `s3key` — plus this project's earlier extras, which shadow none
 * of lava's names: `urlquote`/`urlunquote`, `basename`/`dirname`/`splitext`
 * (as `path.*`), `now()`/`utcnow()` (aware local / UTC datetimes). Nothing here
 * reads the environment or files.
 */
import { randomUUID } from "node:crypto";
import { PyError, valueError } from "./jinja/errors";
import { type DtEnv, fromInstant } from "./jinja/py-datetime";
import { classesOf } from "./jinja/py-datetime-classes";
import { dateutilModules } from "./jinja/py-dateutil";
import { RE_MODULE } from "./jinja/py-re";
import { UTC } from "./jinja/py-tz";
import {
  asStr,
  bind,
  PyDict,
  PyFunction,
  PyModule,
  PyObject,
  PyTuple,
  type PyValue,
} from "./jinja/values";

/** Python `posixpath.basename`. */
function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Python `posixpath.dirname`. */
function dirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf("/") + 1);
  return head !== "" && !/^\/+$/.test(head) ? head.replace(/\/+$/, "") : head;
}

/** Python `posixpath.splitext`: leading dots of the file name are not an extension. */
function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) {
      if (p[i] !== ".") return [p.slice(0, dot), p.slice(dot)];
    }
  }
  return [p, ""];
}

/** Python `posixpath.normpath`. */
function normpath(p: string): string {
  if (p === "") return ".";
  const initial = p.startsWith("//") && !p.startsWith("///") ? 2 : p.startsWith("/") ? 1 : 0;
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== ".." || (!initial && !out.length) || out.at(-1) === "..") out.push(c);
    else if (out.length) out.pop();
  }
  const body = "/".repeat(initial) + out.join("/");
  return body || ".";
}

const ALWAYS_SAFE = /[A-Za-z0-9_.~-]/;

/** Python `urllib.parse.quote(s, safe="/")` (UTF-8). */
function urlquote(s: string, keep: string): string {
  let out = "";
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || (ch.length === 1 && keep.includes(ch))) out += ch;
    else
      for (const byte of new TextEncoder().encode(ch))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Python `urllib.parse.unquote` (UTF-8, bad bytes replaced; `+` stays `+`). */
function urlunquote(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++)
      bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return new TextDecoder("utf-8").decode(bytes);
  });
}

/** lava's `s3_split`: `s3://bucket/key`, `s3:bucket/key`, `/bucket/key` or `bucket/key`. */
function s3Split(value: string): [string, string] {
  let s = value;
  for (const p of ["s3://", "s3:"]) {
    if (s.startsWith(p)) {
      s = s.slice(p.length);
      break;
    }
  }
  const t = s.replace(/^\/+|\/+$/g, "");
  const i = t.indexOf("/");
  const [bucket, key] = i < 0 ? [t, undefined] : [t.slice(0, i), t.slice(i + 1)];
  if (!bucket) throw valueError(`Invalid S3 object name: ${value}`);
  return [bucket, key === undefined ? "" : key.replace(/^\/+|\/+$/g, "")];
}

/** Python's `uuid.UUID`. */
class PyUuid extends PyObject {
  readonly typeName = "uuid.UUID";
  constructor(private readonly text: string) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    if (name === "hex") return this.text.replace(/-/g, "");
    if (name === "urn") return `urn:uuid:${this.text}`;
    if (name === "version") return 4n;
    return undefined;
  }
  override str(): string {
    return this.text;
  }
  override repr(): string {
    return `UUID('${this.text}')`;
  }
}

const str1 = (name: string, f: (s: string) => PyValue) =>
  new PyFunction(name, (a) => f(asStr(a[0] ?? null, `${name}() argument`)));

const PATH = new PyModule("posixpath", {
  basename: str1("basename", basename),
  dirname: str1("dirname", dirname),
  splitext: str1("splitext", (p) => new PyTuple(splitext(p))),
  split: str1("split", (p) => {
    const i = p.lastIndexOf("/") + 1;
    const head = p.slice(0, i);
    return new PyTuple([head && !/^\/+$/.test(head) ? head.replace(/\/+$/, "") : head, p.slice(i)]);
  }),
  join: new PyFunction("join", (a) => {
    const parts = a.map((x) => asStr(x, "join() argument"));
    if (parts.length === 0)
      throw new PyError("TypeError", "join() missing 1 required positional argument: 'a'");
    let out = parts[0] ?? "";
    for (const b of parts.slice(1))
      out = b.startsWith("/") ? b : out === "" || out.endsWith("/") ? out + b : `${out}/${b}`;
    return out;
  }),
  normpath: str1("normpath", normpath),
  isabs: str1("isabs", (p) => p.startsWith("/")),
  sep: "/",
});

/**
 * The `utils` variable for one context: a dict, as lava's is, so
 * `utils.datetime` and `utils['re']` both work.
 */
export function templateUtils(env: DtEnv): PyDict {
  const classes = classesOf(env);
  const { dateutil, parser } = dateutilModules(env);
  return PyDict.of({
    timedelta: classes.timedelta,
    datetime: classes.datetime,
    date: classes.date,
    dateutil,
    time: classes.time,
    parsedate: parser,
    s3bucket: str1("s3bucket", (s) => s3Split(s)[0]),
    s3key: str1("s3key", (s) => s3Split(s)[1]),
    uuid: new PyFunction("uuid4", (a, kw) => {
      bind("uuid4", [], a, kw);
      return new PyUuid(randomUUID());
    }),
    path: PATH,
    re: RE_MODULE,
    urlquote: new PyFunction("urlquote", (a, kw) =>
      urlquote(
        asStr(a[0] ?? null, "urlquote() argument"),
        asStr(a[1] ?? kw.get("safe") ?? "/", "safe"),
      ),
    ),
    urlunquote: str1("urlunquote", urlunquote),
    basename: PATH.getAttr("basename") ?? null,
    dirname: PATH.getAttr("dirname") ?? null,
    splitext: PATH.getAttr("splitext") ?? null,
    now: new PyFunction("now", () => fromInstant(env, env.nowUs(), env.local)),
    utcnow: new PyFunction("utcnow", () => fromInstant(env, env.nowUs(), UTC)),
  });
}

/** lava's utils names (for `check`): a template naming another `utils.X` fails. */
export const UTIL_NAMES: readonly string[] = [
  "timedelta",
  "datetime",
  "date",
  "dateutil",
  "time",
  "parsedate",
  "s3bucket",
  "s3key",
  "uuid",
  "path",
  "re",
  "urlquote",
  "urlunquote",
  "basename",
  "dirname",
  "splitext",
  "now",
  "utcnow",
];
