/**
 * Command lines of exe/pkg jobs (docs/exe-pkg.md §2): the `payload` field (key then
 * arguments) and pkg's `command` (program then arguments) are split like a
 * shell splits words — quotes and backslashes — but nothing runs through a
 * shell: operators, globs, variables and comments are refused, not
 * interpreted.
 */
import { parse } from "shell-quote";
import { SpecError } from "../../shared/errors";

/** Marks a `$NAME` reference in shell-quote's output (its env callback's return value). */
interface Variable {
  readonly variable: string;
}

function describe(entry: object): string {
  if ("variable" in entry) return `the variable $${(entry as Variable).variable}`;
  if ("comment" in entry) return "a # comment";
  const op = (entry as { op: string; pattern?: string }).op;
  if (op === "glob") return `the glob ${(entry as { pattern: string }).pattern}`;
  return `the operator ${op}`;
}

/**
 * Split a command line into words. `where` names the field in errors. Throws
 * `SpecError` for an empty line and for anything a shell would interpret
 * (`|`, `;`, `&`, `>`, `*`, `$X`, `#…`): quote such characters to pass them.
 */
export function parseCommandLine(line: string, where: string): string[] {
  let entries: ReturnType<typeof parse<Variable>>;
  try {
    entries = parse<Variable>(line, (variable) => ({ variable }));
  } catch (err) {
    throw new SpecError([
      `${where}: cannot parse ${JSON.stringify(line)}: ${(err as Error).message}`,
    ]);
  }
  const words: string[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") {
      words.push(entry);
      continue;
    }
    throw new SpecError([
      `${where}: ${describe(entry)} is not allowed (no shell runs the command line; quote it to pass it literally)`,
    ]);
  }
  if (words.length === 0 || words[0] === "") {
    throw new SpecError([`${where}: expected a command line, got ${JSON.stringify(line)}`]);
  }
  return words;
}
