/** Turns zod issues into lava-aurora's one-line problem messages. */
import type { z } from "zod";

const MAX_VALUE_CHARS = 80;

/** Show a bad value compactly, as JSON, cut to a readable length. */
export function showValue(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return shown.length > MAX_VALUE_CHARS ? `${shown.slice(0, MAX_VALUE_CHARS - 1)}…` : shown;
}

/** `parameters.mode`, `subnet_ids[1]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * One message per problem: `<prefix><field>: <expected>, got <value>`;
 * unknown keys become one `<field>: unknown field` line each.
 */
export function formatIssues(prefix: string, issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const where = fieldPath(issue.path);
    const at = where ? `${prefix}${where}: ` : prefix;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push(`${prefix}${fieldPath([...issue.path, key])}: unknown field`);
      }
      continue;
    }
    let input: unknown = (issue as { input?: unknown }).input;
    if (issue.code === "invalid_union" && "discriminator" in issue && issue.discriminator) {
      input = (input as Record<string, unknown> | undefined)?.[issue.discriminator as string];
    }
    if (input === undefined) {
      out.push(`${at}required: ${issue.message}`);
    } else {
      out.push(`${at}${issue.message}, got ${showValue(input)}`);
    }
  }
  return out;
}
