/**
 * Unpacking zip packages (docs/exe-pkg.md §1) with yauzl, refusing entries that would
 * land outside the target directory: absolute paths, `..` components,
 * backslashes, and symlinks resolving outside. A link is judged by where it
 * resolves once every link of the archive exists (chains such as `a -> .`,
 * `b -> a/..` followed as the kernel would), not by its text alone. Files and
 * directories are written first, into real directories only; links are
 * checked all together, then created, so nothing is ever written through one.
 */
import { createWriteStream } from "node:fs";
import { mkdir, realpath, symlink } from "node:fs/promises";
import { posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { type Entry, openPromise, type ZipFile } from "yauzl";
import { LavaError } from "../../shared/errors";

/** Largest symlink target read from an archive. */
const MAX_LINK_TARGET = 4096;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/**
 * The safe relative path of an entry name (a trailing `/` dropped), or a
 * reason to refuse it.
 */
export function zipEntryPath(name: string): { path: string } | { problem: string } {
  if (name === "") return { problem: "empty entry name" };
  if (name.includes("\\")) return { problem: "backslash in entry name" };
  if (name.includes("\0")) return { problem: "NUL in entry name" };
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return { problem: "absolute path" };
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return { problem: "'..' in entry name" };
  if (parts.length === 0) return { problem: "entry names the archive's root" };
  return { path: parts.join("/") };
}

/** Most links followed in one resolution, as Linux (ELOOP). */
const MAX_LINK_HOPS = 40;

/** Why a symlink of the archive is refused. */
export type LinkProblem = "symlink points outside" | "symlink loop";

/**
 * Where `path` (relative to the root) resolves once every link in `links`
 * (relative path → target) exists, following them as the kernel does; other
 * components count as directories (if one is not, the kernel fails, which is
 * no escape). The resolved relative path ("" for the root), or a problem.
 */
export function resolveInRoot(
  path: string,
  links: ReadonlyMap<string, string>,
): { path: string } | { problem: LinkProblem } {
  const done: string[] = [];
  const todo = path.split("/").reverse();
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.pop() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (done.length === 0) return { problem: "symlink points outside" };
      done.pop();
      continue;
    }
    const target = links.get([...done, part].join("/"));
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_LINK_HOPS) return { problem: "symlink loop" };
    if (target === "" || target.startsWith("/") || target.includes("\0"))
      return { problem: "symlink points outside" };
    // Relative to the link's directory, which is `done` as it stands.
    todo.push(...target.split("/").reverse());
  }
  return { path: done.join("/") };
}

/**
 * Why the symlink at relative path `entry` pointing at `target` is refused,
 * with the archive's `links` (all of them, this one included) followed; or
 * `undefined` when it resolves inside the root.
 */
export function linkProblem(
  entry: string,
  target: string,
  links: ReadonlyMap<string, string> = new Map([[entry, target]]),
): LinkProblem | undefined {
  if (target === "" || target.startsWith("/") || target.includes("\0"))
    return "symlink points outside";
  const resolved = resolveInRoot(`${posix.dirname(entry)}/${target}`, links);
  return "problem" in resolved ? resolved.problem : undefined;
}

/** The link among `links` that `path` (or, with `self`, also `path` itself) lies under, if any. */
function underLink(path: string, links: ReadonlyMap<string, string>, self: boolean) {
  const parts = path.split("/");
  for (let i = 1; i <= parts.length - (self ? 0 : 1); i++) {
    const prefix = parts.slice(0, i).join("/");
    if (links.has(prefix)) return prefix;
  }
  return undefined;
}

function fileMode(entry: Entry): number {
  return (entry.externalFileAttributes >>> 16) & 0o177777;
}

/** Whether the entry is a symlink (Unix mode in the external attributes). */
function isSymlink(entry: Entry): boolean {
  return (fileMode(entry) & S_IFMT) === S_IFLNK;
}

async function readTarget(zip: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > MAX_LINK_TARGET) throw new Error("symlink target too long");
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Refuse links resolving outside, loops, and entries under a link; every link of the archive known. */
function checkLinks(links: ReadonlyMap<string, string>, written: readonly string[]): void {
  for (const [path, target] of links) {
    if (underLink(path, links, false))
      throw new Error(`entry ${JSON.stringify(path)}: inside a symlinked directory`);
    const problem = linkProblem(path, target, links);
    if (problem) throw new Error(`entry ${JSON.stringify(path)}: ${problem}`);
  }
  for (const path of written) {
    const link = underLink(path, links, true);
    if (link)
      throw new Error(
        `entry ${JSON.stringify(path)}: written through the symlink ${JSON.stringify(link)}`,
      );
  }
}

/** Unpack `file` into the (existing, empty) directory `dir`. */
export async function extractZip(file: string, dir: string): Promise<void> {
  const root = await realpath(dir);
  let zip: ZipFile | undefined;
  const links = new Map<string, string>();
  const written: string[] = [];
  try {
    zip = await openPromise(file, {
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
    });
    for await (const entry of zip.eachEntry()) {
      const checked = zipEntryPath(entry.fileName);
      if ("problem" in checked)
        throw new Error(`entry ${JSON.stringify(entry.fileName)}: ${checked.problem}`);
      const out = posix.join(root, checked.path);
      const mode = fileMode(entry);
      const isDir = entry.fileName.endsWith("/") || (mode & S_IFMT) === S_IFDIR;
      if (!isDir && isSymlink(entry)) {
        if (links.has(checked.path))
          throw new Error(`entry ${JSON.stringify(entry.fileName)}: duplicate symlink`);
        links.set(checked.path, await readTarget(zip, entry));
        continue;
      }
      // No link exists yet: every directory on the way is a real one under the root.
      written.push(checked.path);
      if (isDir) {
        await mkdir(out, { recursive: true, mode: 0o700 });
      } else {
        await mkdir(posix.dirname(out), { recursive: true, mode: 0o700 });
        // `wx`: never overwrite, never follow an existing link.
        const perm = mode & 0o777 ? (mode & 0o700) | 0o600 : 0o600;
        await pipeline(
          await zip.openReadStreamPromise(entry),
          createWriteStream(out, { flags: "wx", mode: perm }),
        );
      }
    }
    checkLinks(links, written);
    for (const [path, target] of links) {
      const at = posix.join(root, path);
      await mkdir(posix.dirname(at), { recursive: true, mode: 0o700 });
      await symlink(target, at);
    }
  } catch (err) {
    throw new LavaError(`cannot unpack zip: ${(err as Error).message}`, { cause: err });
  } finally {
    zip?.close();
  }
}
