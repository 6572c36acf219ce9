/** Exit codes and error reporting shared by every CLI command. */
import { LavaError, SpecError } from "../../lambda/shared/errors";

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A bad command line (as opposed to a bad realm or a failed run). */
export class UsageError extends LavaError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Print an error on stderr and return its exit code: 2 for usage and spec
 * errors (one line per problem), 1 for everything else. Messages of our own
 * errors never hold secrets; for foreign ones only name and message are shown.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof SpecError) {
    for (const p of err.problems) stderr.write(`${p}\n`);
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    stderr.write(`lava-aurora: ${err.message}\n`);
    return EXIT.usage;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  stderr.write(`lava-aurora: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}\n`);
  return EXIT.failed;
}
