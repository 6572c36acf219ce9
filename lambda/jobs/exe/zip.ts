/**
 * Unpacking zip packages (SPEC §7) with yauzl, refusing entries that would
 * land outside the target directory: absolute paths, `..` components,
 * backslashes, and symlinks pointing out. Symlinks are created last, so no
 * file is ever written through one.
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

/** Whether a symlink at relative path `entry` pointing at `target` resolves outside the root. */
export function symlinkEscapes(entry: string, target: string): boolean {
  if (target === "" || target.startsWith("/") || target.includes("\0")) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(entry), target));
  return resolved === ".." || resolved.startsWith("../") || posix.isAbsolute(resolved);
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

/** Unpack `file` into the (existing, empty) directory `dir`. */
export async function extractZip(file: string, dir: string): Promise<void> {
  const root = await realpath(dir);
  let zip: ZipFile | undefined;
  const links: { path: string; target: string }[] = [];
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
      if (entry.fileName.endsWith("/") || (mode & S_IFMT) === S_IFDIR) {
        await mkdir(out, { recursive: true, mode: 0o700 });
      } else if (isSymlink(entry)) {
        const target = await readTarget(zip, entry);
        if (symlinkEscapes(checked.path, target))
          throw new Error(`entry ${JSON.stringify(entry.fileName)}: symlink points outside`);
        links.push({ path: checked.path, target });
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
    for (const link of links) {
      const parent = posix.dirname(posix.join(root, link.path));
      await mkdir(parent, { recursive: true, mode: 0o700 });
      // The parent must be a real directory, not reached through another link.
      if ((await realpath(parent)) !== parent)
        throw new Error(`entry ${JSON.stringify(link.path)}: inside a symlinked directory`);
      await symlink(link.target, posix.join(root, link.path));
    }
  } catch (err) {
    throw new LavaError(`cannot unpack zip: ${(err as Error).message}`, { cause: err });
  } finally {
    zip?.close();
  }
}
