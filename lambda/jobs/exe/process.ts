/**
 * One payload process (docs/exe-pkg.md §6): stdin /dev/null, stdout and stderr into
 * their sinks, its own process group (spawned detached) so a timeout — and
 * the end of the run — kills every process it started: SIGTERM to the group,
 * SIGKILL after a grace period.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { OutputSink } from "./outputs";

/** Between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** How long to wait for the output pipes after the group is dead (a process that left the group may hold them). */
const PIPE_GRACE_MS = 2_000;

/** Longest delay a Node timer takes (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ProcessSpec {
  readonly program: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Milliseconds the process may run; ≤ 0 kills it at once. */
  readonly timeoutMs: number;
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  /** Open descriptors the process inherits as 3, 4, … (a psql's pgpass); default none. */
  readonly fds?: readonly number[];
}

export type ProcessOutcome =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "signaled"; readonly signal: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "spawn-failed"; readonly code: string; readonly message: string };

/** Whether a live (not zombie) process is in the group, by /proc; `undefined` without /proc. */
function liveMemberByProc(pgid: number): boolean | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/**
 * Whether any process of the group is left. Zombies do not count: orphans
 * are reparented to PID 1, which in a container may never reap them.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  return liveMemberByProc(pgid) ?? true;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** SIGTERM the group, wait up to the grace period for it to go, then SIGKILL what is left. */
export async function killGroup(pgid: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  const until = Date.now() + KILL_GRACE_MS;
  while (groupAlive(pgid) && Date.now() < until) await sleep(50);
  signalGroup(pgid, "SIGKILL");
}

/** Run one process to its end (and its group's); never throws for what the process does. */
export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  // Typed by hand: spawn's overloads only know three-element stdio tuples.
  const child = spawn(spec.program, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", ...(spec.fds ?? [])],
  }) as ChildProcessByStdio<null, Readable, Readable>;
  const spawned = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.once("error", (err) => resolve(err));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const pipes = Promise.all([spec.stdout.attach(child.stdout), spec.stderr.attach(child.stderr)]);
  pipes.catch(() => undefined);
  const failed = await spawned;
  if (failed || child.pid === undefined) {
    child.stdout.destroy();
    child.stderr.destroy();
    return {
      kind: "spawn-failed",
      code: failed?.code ?? "UNKNOWN",
      message: failed?.message ?? "no process id",
    };
  }
  const pgid = child.pid;
  let timedOut = false;
  let killing: Promise<void> | undefined;
  const timer = setTimeout(
    () => {
      timedOut = true;
      killing = killGroup(pgid);
    },
    Math.min(Math.max(spec.timeoutMs, 0), MAX_TIMER_MS),
  );
  try {
    const { code, signal } = await exited;
    clearTimeout(timer);
    // The leader is gone; what it left running in its group goes too.
    if (!killing && groupAlive(pgid)) killing = killGroup(pgid);
    await killing;
    const grace = new AbortController();
    const drained = await Promise.race([
      pipes.then(
        () => true,
        () => true,
      ),
      sleep(PIPE_GRACE_MS, false, { signal: grace.signal }).catch(() => true),
    ]);
    grace.abort();
    if (!drained) {
      child.stdout.destroy();
      child.stderr.destroy();
    }
    if (timedOut) return { kind: "timeout" };
    if (code !== null) return { kind: "exited", code };
    return { kind: "signaled", signal: signal ?? "unknown" };
  } finally {
    clearTimeout(timer);
  }
}
