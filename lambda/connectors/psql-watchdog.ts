/**
 * Ends a psql whose parent died without cleaning up (SIGKILL, OOM killer): a
 * small detached node process holds the read end of a pipe whose only write
 * end is the parent's. The kernel closes it when the parent dies, however it
 * dies; end of file without the parent's "done" means psql is orphaned, and
 * the watchdog kills it. (No PR_SET_PDEATHSIG from node without a native
 * addon, and `setpriv --pdeathsig` is Linux-only; this works wherever node
 * runs.)
 */
import { spawn } from "node:child_process";

/** The watchdog program: argv[1] is psql's pid. */
const SOURCE = `
const pid = Number(process.argv[1]);
let said = "";
process.stdin.on("data", (d) => { said += d; });
const end = () => {
  if (!said.includes("done")) { try { process.kill(pid, "SIGKILL"); } catch {} }
  process.exit(0);
};
process.stdin.on("end", end);
process.stdin.on("error", end);
`;

export interface Watchdog {
  /** psql ended normally: stand the watchdog down. Safe to call twice. */
  release(): void;
}

/**
 * Watch `pid` (psql, just spawned by this process). The watchdog runs in its
 * own session (no terminal signals reach it) with an empty environment.
 */
export function watchChild(pid: number): Watchdog {
  const dog = spawn(process.execPath, ["-e", SOURCE, String(pid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: {},
  });
  dog.on("error", () => undefined);
  dog.stdin.on("error", () => undefined);
  dog.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      dog.stdin.end("done\n");
    },
  };
}
