/** `lava-aurora psql CONN_ID [-- PSQL_ARGS…]`: psql connected through the connector. */
import { spawn } from "node:child_process";
import { psqlApplicationName } from "../../lambda/connectors/app-name";
import { preparePsql } from "../../lambda/connectors/psql";
import { watchChild } from "../../lambda/connectors/psql-watchdog";
import { resolveDbConnection } from "../../lambda/connectors/resolve-connection";
import { defaultResolveDeps } from "./deps";
import { EXIT, reportError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

/** Run psql; once it has started, its exit status is ours (128+n if killed by signal n). */
export async function psqlCommand(
  connId: string,
  psqlArgs: readonly string[],
  flags: RealmFlags,
): Promise<number> {
  let cleanup: (() => Promise<void>) | undefined;
  try {
    const realm = await loadRealm(flags);
    const conn = await resolveDbConnection(realm, connId, defaultResolveDeps());
    const inv = await preparePsql(conn, {
      applicationName: psqlApplicationName(realm.name, connId),
      extraArgs: psqlArgs,
    });
    cleanup = inv.cleanup;
    return await runPsql(inv.argv, inv.env, inv.fds);
  } catch (err) {
    return reportError(err);
  } finally {
    await cleanup?.();
  }
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3 } as const;

/** Run psql (inheriting `fds` as 3, 4, …) with a watchdog that ends it should this process be killed. */
function runPsql(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  fds: readonly number[],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", argv, { stdio: ["inherit", "inherit", "inherit", ...fds], env });
    const watchdog = child.pid === undefined ? undefined : watchChild(child.pid);
    // psql handles Ctrl-C itself (cancels the query); we only pass signals on and wait.
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const forwarded = ["SIGTERM", "SIGHUP"] as const;
    const ignore = () => undefined;
    process.on("SIGINT", ignore);
    process.on("SIGQUIT", ignore);
    for (const s of forwarded) process.on(s, forward);
    const done = () => {
      watchdog?.release();
      process.off("SIGINT", ignore);
      process.off("SIGQUIT", ignore);
      for (const s of forwarded) process.off(s, forward);
    };
    child.on("error", (err) => {
      done();
      const why =
        (err as NodeJS.ErrnoException).code === "ENOENT" ? "psql not found on PATH" : err.message;
      reject(new Error(why, { cause: err }));
    });
    child.on("exit", (code, signal) => {
      done();
      if (code !== null) resolve(code);
      else if (signal && signal in SIGNALS) resolve(128 + SIGNALS[signal as keyof typeof SIGNALS]);
      else resolve(EXIT.failed);
    });
  });
}
