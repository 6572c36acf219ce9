/**
 * Which fields of a job or trigger spec are templates, and what each one can
 * see, for `check`: every problem is `<field>: <what is wrong>`.
 */
import { codeLine, splitSql } from "../sql-split";
import { JOB_ADDED_KEYS, JOB_TEMPLATE_NAMES, type TemplateScope, templateProblems } from "./check";

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

/** The template variables of a trigger (docs/templates.md §5). */
const TRIGGER_NAMES = ["bucket", "key", "info", "event", "utils", "realm"];
/** Trigger variables lava's job specs use as placeholders for what a dispatch supplies. */
const PLACEHOLDERS = ["bucket", "key", "info", "event"];

/** Every string inside a value, with its path. */
function strings(value: unknown, path: string): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

function check(
  out: string[],
  field: string,
  source: unknown,
  scope: TemplateScope,
  syntax = true,
): void {
  if (typeof source !== "string" || !/\{\{|\{%|\{#/.test(source)) return;
  const problems = templateProblems(source, scope);
  for (const p of problems)
    if (syntax || !p.startsWith("template error:")) out.push(`${field}: ${p}`);
}

/**
 * The template problems of one raw job or trigger spec (x- fields and lava-only
 * fields already removed). Each would fail the render; see
 * {@link splitTemplateProblems} for which ones `check` treats as errors.
 *
 * @param realmKeys the keys of lava's realm dict for this realm (`realm`, `s3_temp`, …)
 */
export function specTemplateProblems(
  kind: "job" | "trigger",
  raw: Raw,
  realmKeys: readonly string[],
): string[] {
  const out: string[] = [];
  const params = isRecord(raw.parameters) ? raw.parameters : {};
  if (kind === "trigger") {
    if (raw.jinja === false) return out;
    const scope: TemplateScope = { names: TRIGGER_NAMES };
    for (const [field, s] of [
      ...strings(raw.job_id, "job_id"),
      ...strings(raw.parameters, "parameters"),
      ...strings(raw.globals, "globals"),
    ]) {
      check(out, field, s, scope);
    }
    return out;
  }
  const jobKeys = [...new Set([...Object.keys(raw), ...JOB_ADDED_KEYS])];
  const base = { names: JOB_TEMPLATE_NAMES, realmKeys, jobKeys };
  check(out, "enabled", raw.enabled, { ...base, varsKeys: [] });
  if (params.jinja === false) return out;
  // lava's documented jobs hold `{{ key }}`-style placeholders in parameters that a
  // trigger's dispatch replaces: a trigger's variables there are not reported.
  const scope: TemplateScope = {
    ...base,
    names: [...JOB_TEMPLATE_NAMES, ...PLACEHOLDERS],
    varsKeys: isRecord(params.vars) ? Object.keys(params.vars) : [],
  };
  if (raw.type === "db_from_s3") {
    check(out, "parameters.bucket", params.bucket, scope);
    check(out, "parameters.key", params.key, scope);
    check(out, "parameters.schema", params.schema, scope);
    check(out, "parameters.table", params.table, scope);
  } else if (raw.type === "exe" || raw.type === "pkg") {
    for (const [field, s] of [
      ...strings(params.args, "parameters.args"),
      ...strings(params.env, "parameters.env"),
    ]) {
      check(out, field, s, scope);
    }
    // Rendered word by word after splitting, so only the names are checked here.
    check(out, "payload", raw.payload, scope, false);
    check(out, "parameters.command", params.command, scope, false);
  } else if (raw.type === "sqli") {
    // As lava: split first (unless raw), then each statement rendered on its own.
    const elements = typeof raw.payload === "string" ? [raw.payload] : raw.payload;
    if (!Array.isArray(elements)) return out;
    for (const [m, element] of elements.entries()) {
      if (typeof element !== "string") continue;
      if (params.raw === true) check(out, `payload[${m}]`, element, scope);
      else
        for (const [n, piece] of splitSql(element).entries())
          check(out, `payload[${m}] statement ${n} (line ${codeLine(piece)})`, piece.text, scope);
    }
  }
  return out;
}

/**
 * Which problems fail `check`: a template naming lava's `state` (which does not
 * exist here) is an error; the rest are warnings, since a dispatch may replace
 * the value before it is rendered and the run reports the failure loudly anyway.
 */
export function splitTemplateProblems(problems: readonly string[]): {
  errors: string[];
  warnings: string[];
} {
  const isError = (p: string) => /: template uses (job\.)?state: /.test(p);
  return { errors: problems.filter(isError), warnings: problems.filter((p) => !isError(p)) };
}
