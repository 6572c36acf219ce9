/**
 * The pgpass of a psql start (docs/connections.md §9.1), on disk for as short a time as the
 * OS allows. On Linux the file is written (0600, in a private 0700
 * directory), opened, and unlinked with its directory before psql starts:
 * psql inherits the open descriptor and libpq reads it as
 * `PGPASSFILE=/dev/fd/3` — a reopen of the same unlinked inode, so every
 * connection of the session (`\c` too) finds it, and nothing is left when the
 * CLI is killed. (libpq refuses a FIFO or a pipe — "not a plain file" — and
 * checks the mode of the inode, 0600.) Elsewhere (/dev/fd/N is a dup of the
 * descriptor, sharing its offset, so a second connection would read nothing)
 * the file stays for the session and is removed afterwards. Directories are
 * named after the owning pid, so one left by a killed process is removed at
 * the next start.
 */
import { lstatSync } from "node:fs";
import { chmod, type FileHandle, mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Longest password put in a pgpass file. Older psql/libpq builds cut longer
 * ones (lava's postgres-aurora connector docs, "psql CLI password limitations"); IAM tokens (~300 chars,
 * ~1.2 KB with session credentials) always exceed it.
 */
export const PGPASS_MAX_PASSWORD = 100;

/** How the pgpass reaches psql: an inherited descriptor of an unlinked file, or a path. */
export type PgpassDelivery = "descriptor" | "path";

/** Descriptors of an unlinked file reopen the file only on Linux. */
export const DEFAULT_PGPASS_DELIVERY: PgpassDelivery =
  process.platform === "linux" ? "descriptor" : "path";

/** Private directories: `lava-psql-<pid>-XXXXXX`. */
const DIR_PREFIX = "lava-psql-";
const DIR_NAME = /^lava-psql-(\d+)-[A-Za-z0-9]{6}$/;

/** Escape a pgpass field: `\` and `:` are special to libpq. */
export function pgpassEscape(field: string): string {
  return field.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** Whether a password can go into a pgpass file. */
export function fitsPgpass(password: string): boolean {
  return password.length <= PGPASS_MAX_PASSWORD && !/[\r\n]/.test(password);
}

/** A pgpass ready for one psql process. */
export interface Pgpass {
  /** The value of PGPASSFILE for psql. */
  readonly file: string;
  /** Descriptors psql must inherit as 3, 4, … (spawn's stdio after the standard three). */
  readonly fds: readonly number[];
  /** Closes the descriptor or removes the directory; safe to call twice. */
  close(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the private directories under `dir` whose owning process is gone
 * (left by a process killed before it could clean up). Only ours (same uid),
 * never through a link; best effort: a directory that cannot be removed must
 * not stop this psql start.
 */
export async function sweepPgpassDirs(dir: string = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(DIR_NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Gone meanwhile, or not ours to remove.
    }
  }
  return removed;
}

/**
 * Write the pgpass line for host, port and user (any database) and hand it
 * over as `delivery` says; sweeps dead processes' leftovers first.
 */
export async function createPgpass(
  fields: { host: string; port: number; user: string; password: string },
  delivery: PgpassDelivery = DEFAULT_PGPASS_DELIVERY,
): Promise<Pgpass> {
  await sweepPgpassDirs();
  const dir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const file = join(dir, "pgpass");
  const line = [fields.host, String(fields.port), "*", fields.user, fields.password]
    .map((f, i) => (i === 2 ? f : pgpassEscape(f)))
    .join(":");
  let handle: FileHandle | undefined;
  try {
    await chmod(dir, 0o700);
    await writeFile(file, `${line}\n`, { mode: 0o600, flag: "wx" });
    if (delivery === "path") {
      return { file, fds: [], close: () => rm(dir, { recursive: true, force: true }) };
    }
    handle = await open(file, "r");
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const fh = handle;
  try {
    // Unlinked before psql exists: only the descriptor holds the password now.
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    await fh.close();
    throw err;
  }
  let closed = false;
  return {
    file: "/dev/fd/3",
    fds: [fh.fd],
    close: async () => {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}
