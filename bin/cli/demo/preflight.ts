/** What the demo needs from the machine, checked before anything starts. */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { findPgBin, pgBinHint } from "../local-world/pg-bin";

/** The machine is fit (with the server binaries' directory), or what to do about it. */
export type Preflight = { ok: true; pgBin: string } | { ok: false; problems: string[] };

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function hasUser(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL server binaries (see findPgBin), a `postgres` OS user to run them as when we are
 * root (PostgreSQL refuses to run as root), curl (the aws_s3 stand-in fetches with it) and
 * /usr/bin/openssl (the test CA is made with it).
 */
export function preflight(env: NodeJS.ProcessEnv = process.env): Preflight {
  const problems: string[] = [];
  const pg = findPgBin({ env });
  if (!pg.found) problems.push(pgBinHint(pg));
  if (pg.found && process.getuid?.() === 0 && !hasUser("postgres")) {
    problems.push(
      "running as root, and there is no `postgres` OS user to run PostgreSQL as (it refuses to run as root); installing the postgresql package creates one, or run the demo as an ordinary user.",
    );
  }
  if (!onPath("curl", env))
    problems.push("curl is not on PATH (Debian/Ubuntu: sudo apt-get install curl).");
  try {
    accessSync("/usr/bin/openssl", constants.X_OK);
  } catch {
    problems.push("/usr/bin/openssl is missing (Debian/Ubuntu: sudo apt-get install openssl).");
  }
  return pg.found && problems.length === 0 ? { ok: true, pgBin: pg.dir } : { ok: false, problems };
}
