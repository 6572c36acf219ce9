import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { findPgBin, pgBinHint } from "./pg-bin.js";

const run = promisify(execFile);

/** The major version the test suite prefers where installed. */
const PREFERRED_MAJOR = "15";

let binDir: string | undefined;

/** Use the server binaries in `dir` from now on (the demo picks them before starting). */
export function usePgBin(dir: string): void {
  binDir = dir;
}

/**
 * Directory of the PostgreSQL server binaries: as set by {@link usePgBin}, else found by
 * {@link findPgBin} (PostgreSQL 15 preferred where installed); throws how to install them.
 */
export function pgBinDir(): string {
  if (binDir === undefined) {
    const found = findPgBin({ prefer: PREFERRED_MAJOR });
    if (!found.found) throw new Error(pgBinHint(found));
    binDir = found.dir;
  }
  return binDir;
}

/** Numeric ids of the OS account that runs the server. */
export interface PgOwner {
  uid: number;
  gid: number;
}

let owner: PgOwner | undefined;

/**
 * The `postgres` OS account when this process runs as root (PostgreSQL refuses to run as root),
 * otherwise undefined: the server then runs as the current user.
 */
export function pgOwner(): PgOwner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (!owner) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    owner = { uid: id("-u"), gid: id("-g") };
  }
  return owner;
}

/** The command line running a PostgreSQL binary as the right OS user. */
export function pgCommand(bin: string, args: string[]): { file: string; args: string[] } {
  const file = join(pgBinDir(), bin);
  if (pgOwner()) return { file: "runuser", args: ["-u", "postgres", "--", file, ...args] };
  return { file, args };
}

/** Runs a PostgreSQL binary to completion; rejects with its output on failure. */
export async function runPg(bin: string, args: string[], cwd: string): Promise<string> {
  const cmd = pgCommand(bin, args);
  try {
    const { stdout } = await run(cmd.file, cmd.args, { cwd, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${bin} ${args.join(" ")} failed: ${String(error)}\n${stdout}${stderr}`);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

interface Tracked {
  dataDir: string;
  rootDir: string;
  watchdogPid: number | undefined;
}

const running = new Map<string, Tracked>();
let exitHookInstalled = false;

/** Stops a cluster immediately and synchronously, then deletes its directory. */
export function stopSync(dataDir: string, rootDir: string): void {
  const cmd = pgCommand("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  spawnSync(cmd.file, cmd.args, { cwd: "/", stdio: "ignore", timeout: 30_000 });
  rmSync(rootDir, { recursive: true, force: true });
}

function stopAllSync(): void {
  for (const tracked of running.values()) {
    stopSync(tracked.dataDir, tracked.rootDir);
    killWatchdog(tracked.watchdogPid);
  }
  running.clear();
}

const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/** Stops clusters on a fatal signal (vitest ends its forks with SIGTERM), then dies as before. */
function onSignal(signal: NodeJS.Signals): void {
  stopAllSync();
  removeSignalHooks();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function removeSignalHooks(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function installHooks(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", stopAllSync);
  }
  for (const signal of SIGNALS) {
    if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
  }
}

/**
 * A detached shell that stops the cluster and deletes its directory once this process is gone
 * (covers SIGKILL, where no 'exit' handler runs). It ends by itself when the data dir vanishes.
 */
function startWatchdog(dataDir: string, rootDir: string): number | undefined {
  const stop = pgCommand("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  const script = `while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
if [ -d "$2" ]; then root="$3"; shift 3; "$@" >/dev/null 2>&1; rm -rf "$root"; fi`;
  const args = [String(process.pid), dataDir, rootDir, stop.file, ...stop.args];
  const child = spawn("sh", ["-c", script, "pg-watchdog", ...args], {
    cwd: "/",
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  return child.pid;
}

function killWatchdog(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Registers a cluster with the safety nets (process 'exit' hook, SIGTERM/SIGINT/SIGHUP hooks and a
 * watchdog for SIGKILL) so that it is stopped and removed even if the test file never calls stop().
 */
export function trackCluster(dataDir: string, rootDir: string): void {
  installHooks();
  running.set(dataDir, { dataDir, rootDir, watchdogPid: startWatchdog(dataDir, rootDir) });
}

/** Removes a cluster from the safety nets after a regular stop. */
export function untrackCluster(dataDir: string): void {
  const tracked = running.get(dataDir);
  running.delete(dataDir);
  killWatchdog(tracked?.watchdogPid);
  if (running.size === 0) removeSignalHooks();
}
