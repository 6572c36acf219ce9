/**
 * Rendering Jinja templates as lava does (Python Jinja2, default settings),
 * with one deliberate difference: undefined names and attributes are errors
 * (Jinja2's `StrictUndefined`), never `''`. The engine is `./jinja`: Jinja2's
 * lexer and parser rule for rule, evaluated over a Python value model, so
 * values print as Python prints them (`True`, `None`, `{'a': 1}`).
 */
import { LavaError } from "../errors";
import { templateValue } from "./context";
import type { Stmt } from "./jinja/ast";
import { PyError } from "./jinja/errors";
import { Evaluator, Scope } from "./jinja/evaluate";
import { hasFilter } from "./jinja/filters";
import { GLOBALS } from "./jinja/globals";
import { parseTemplate } from "./jinja/parser";
import { hasTest } from "./jinja/tests";
import { PyDict, PyObject, PyTuple, type PyValue, Undefined } from "./jinja/values";

/**
 * A template could not be parsed or rendered. Never retryable: the same
 * template and context fail the same way. The message names what was being
 * rendered and the engine's complaint, never the values in the context.
 */
export class TemplateError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = "TemplateError";
  }
}

/**
 * Jinja2 rejects unknown filters and tests when it compiles, except inside
 * `{% if %}` blocks and inline `if` expressions, where they fail only when run.
 */
function checkNames(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) checkNames(n);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const n = node as { kind?: string; name?: unknown };
  if (n.kind === "if" || n.kind === "cond") return;
  if (n.kind === "filter" && !hasFilter(n.name as string)) {
    throw new PyError("TemplateAssertionError", `No filter named '${String(n.name)}'.`);
  }
  if (n.kind === "test" && !hasTest(n.name as string)) {
    throw new PyError("TemplateAssertionError", `No test named '${String(n.name)}'.`);
  }
  for (const v of Object.values(n)) if (typeof v === "object") checkNames(v);
}

/** Parsed templates by source; the same strings render on every run. */
const CACHE_LIMIT = 500;
const cache = new Map<string, Stmt[]>();

/** Parse (and check) a template, cached. */
export function compileTemplate(source: string): Stmt[] {
  const hit = cache.get(source);
  if (hit !== undefined) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const program = parseTemplate(source);
  checkNames(program);
  cache.set(source, program);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return program;
}

/** Whether a string has any Jinja markup at all. */
function isTemplate(source: string): boolean {
  return source.includes("{{") || source.includes("{%") || source.includes("{#");
}

const isPy = (v: unknown): boolean =>
  v instanceof PyDict || v instanceof PyObject || v instanceof PyTuple || v instanceof Undefined;

/**
 * Render one Jinja template.
 *
 * Strings without `{{`, `{%` or `{#` come back as Jinja2 returns them: newlines
 * normalised to `\n`, one trailing newline dropped (no parsing). Parsed
 * templates are cached (bounded), so rendering the same string again is cheap.
 *
 * @param source the template text
 * @param context the variables (see `baseContext`); plain JS values are
 *   converted (objects to dicts, Dates to aware UTC datetimes)
 * @param what what is being rendered, for error messages, e.g.
 *   `job sales/load: parameters.key`
 * @throws TemplateError naming `what` and the engine's complaint (syntax
 *   error, undefined name, failed call, …), never context values
 */
export function renderTemplate(
  source: string,
  context: Record<string, unknown>,
  what: string,
): string {
  // Jinja2 drops one trailing newline from every template, markup or not.
  if (!isTemplate(source)) return source.replace(/\r\n|\r/g, "\n").replace(/\n$/, "");
  try {
    const program = compileTemplate(source);
    const scope = new Scope();
    for (const [name, value] of Object.entries(GLOBALS)) scope.set(name, value);
    for (const [name, value] of Object.entries(context)) {
      if (value !== undefined)
        scope.set(name, isPy(value) ? (value as PyValue) : templateValue(value));
    }
    return new Evaluator().run(program, scope.child());
  } catch (err) {
    if (err instanceof PyError) {
      throw new TemplateError(`${what}: template error: ${err.pyType}: ${err.message}`, {
        cause: err,
      });
    }
    // Anything else is a gap in the engine (say, a stack overflow): still this template's failure.
    const message = err instanceof Error ? err.message : String(err);
    throw new TemplateError(`${what}: template error: ${message}`, { cause: err });
  }
}

/**
 * Render every string inside a value: nested objects and arrays are copied
 * with their keys unchanged and their strings rendered; other values
 * (numbers, booleans, null) are returned as they are.
 *
 * @param what names the value; errors name the path inside it, e.g.
 *   `job x: parameters.files[0]`
 * @throws TemplateError as {@link renderTemplate}
 */
export function renderDeep(
  value: unknown,
  context: Record<string, unknown>,
  what: string,
): unknown {
  if (typeof value === "string") return renderTemplate(value, context, what);
  if (Array.isArray(value)) {
    return value.map((item, i) => renderDeep(item, context, `${what}[${i}]`));
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = renderDeep(item, context, `${what}.${key}`);
    }
    return out;
  }
  return value;
}

/**
 * Evaluate an `enabled` field (docs/templates.md §6): a boolean as it is; a string is
 * rendered and enables only if the result, trimmed and lower-cased, is `true`.
 *
 * @throws TemplateError as {@link renderTemplate}
 */
export function renderEnabled(
  value: boolean | string,
  context: Record<string, unknown>,
  what: string,
): boolean {
  if (typeof value === "boolean") return value;
  return renderTemplate(value, context, what).trim().toLowerCase() === "true";
}
