/** Runs the built `lava-aurora` CLI (dist/) as a child process, as a user would. */
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/lava-aurora.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The preload that freezes a child's clock (see frozen-clock.mjs). */
const FROZEN_CLOCK = fileURLToPath(new URL("./frozen-clock.mjs", import.meta.url));

/**
 * Run `lava-aurora args…` with extra env and optional stdin; `frozenAt` fixes the
 * child's clock (`Date`) at that time, through a test-only Node preload.
 */
export function runCli(
  args: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    input?: string;
    cwd?: string;
    frozenAt?: Date;
  } = {},
): Promise<CliResult> {
  const frozen = options.frozenAt;
  const nodeArgs = frozen ? ["--import", pathToFileURL(FROZEN_CLOCK).href] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env: {
        ...process.env,
        ...options.env,
        ...(frozen ? { LAVA_TEST_FROZEN_CLOCK: frozen.toISOString() } : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
