/**
 * Rendering Jinja templates with `@huggingface/jinja`, which understands the
 * Python idioms lava users write (`key.split('/')[-1]`, `w[::-1]`, `lower`,
 * `default`, `replace`, chained filters). Differences from Jinja2 that matter
 * here:
 *
 * - Whitespace: rendered with Jinja2's defaults (`trim_blocks` and
 *   `lstrip_blocks` off, one trailing newline dropped), not the engine's
 *   chat-template defaults.
 * - Globals: Jinja2's (see `jinja-globals.ts`), not the engine's
 *   chat-template extras.
 * - No HTML auto-escaping (Jinja2's default too).
 */
import { Environment, Interpreter, parse, tokenize } from "@huggingface/jinja";
import { LavaError } from "../errors";
import { type RuntimeValue, toRuntime } from "./engine-values";
import { JINJA_GLOBALS } from "./jinja-globals";

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

type Program = ReturnType<typeof parse>;

/** Parsed templates by source; the same strings render on every run. */
const CACHE_LIMIT = 500;
const cache = new Map<string, Program>();

function compile(source: string): Program {
  const hit = cache.get(source);
  if (hit !== undefined) {
    // Most recently used last, so the oldest use is evicted first.
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const program = parse(tokenize(source, { lstrip_blocks: false, trim_blocks: false }));
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

/**
 * Render one Jinja template.
 *
 * Strings without `{{`, `{%` or `{#` come back unchanged (no parsing). Parsed
 * templates are cached (bounded), so rendering the same string again is cheap.
 *
 * @param source the template text
 * @param context the variables (see `baseContext`)
 * @param what what is being rendered, for error messages, e.g.
 *   `job sales/load: parameters.key`
 * @throws TemplateError naming `what` and the engine's complaint (syntax
 *   error, unknown filter, failed call, …), never context values
 */
export function renderTemplate(
  source: string,
  context: Record<string, unknown>,
  what: string,
): string {
  if (!isTemplate(source)) return source;
  try {
    const program = compile(source);
    const env = new Environment();
    for (const [name, value] of Object.entries({ ...JINJA_GLOBALS, ...context })) {
      env.setVariable(name, toRuntime(value) as never);
    }
    const result = new Interpreter(env).run(program) as RuntimeValue;
    return String(result.value);
  } catch (err) {
    const message = err instanceof Error ? err.message : "unknown error";
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
 * Evaluate an `enabled` field (SPEC §4): a boolean as it is; a string is
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
