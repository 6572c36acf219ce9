/** Runs the built `lava-aurora` CLI (dist/) as a child process, as a user would. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/lava-aurora.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `lava-aurora args…` with extra env and optional stdin; `prefix` runs it under e.g. faketime. */
export function runCli(
  args: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    input?: string;
    cwd?: string;
    prefix?: readonly string[];
  } = {},
): Promise<CliResult> {
  const prefix = options.prefix ?? [];
  const [cmd, ...rest] = [...prefix, process.execPath, CLI, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, rest, {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env },
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
