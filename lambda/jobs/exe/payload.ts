/**
 * Payload objects (docs/exe-pkg.md §1): one key, or every object under a prefix in
 * lexicographic (byte) order; downloaded into the run's private directory and
 * made executable, or, for pkg, unpacked (tar in any compression, or zip).
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { isTransient, LavaError, ObjectMissingError, PayloadError } from "../../shared/errors";
import { headObject, openObject, s3Url } from "../../shared/s3-objects";
import type { PayloadRef } from "./params";
import { extractZip } from "./zip";

const run = promisify(execFile);

/** The payload's keys: the key itself (which must exist), or the objects under the prefix. */
export async function payloadKeys(
  s3: S3Client,
  ref: Pick<PayloadRef, "bucket" | "key" | "isPrefix">,
): Promise<string[]> {
  if (!ref.isPrefix) {
    if (!(await headObject(s3, ref.bucket, ref.key)))
      throw new ObjectMissingError(`payload ${s3Url(ref.bucket, ref.key)} does not exist`);
    return [ref.key];
  }
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: ref.bucket, Prefix: ref.key, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        // Zero-byte "folder" markers are not executables.
        if (o.Key && !o.Key.endsWith("/")) keys.push(o.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    const e = err as Error;
    throw new LavaError(
      `cannot list payloads under ${s3Url(ref.bucket, ref.key)}: ${e.name}: ${e.message}`,
      { cause: err, retryable: isTransient(err) },
    );
  }
  if (keys.length === 0)
    throw new ObjectMissingError(`payload prefix ${s3Url(ref.bucket, ref.key)} holds no objects`);
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Download one object to `file` (created, never overwritten), mode 0700. */
export async function download(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
): Promise<void> {
  const obj = await headObject(s3, bucket, key);
  if (!obj) throw new ObjectMissingError(`payload ${s3Url(bucket, key)} does not exist`);
  const body: Readable = await openObject(s3, obj);
  try {
    await pipeline(body, createWriteStream(file, { flags: "wx", mode: 0o700 }));
  } catch (err) {
    const e = err as Error;
    throw new LavaError(`cannot download ${s3Url(bucket, key)}: ${e.name}: ${e.message}`, {
      cause: err,
      retryable: isTransient(err),
    });
  }
  await chmod(file, 0o700);
}

/** Zip packages are told by their extension; everything else goes to tar. */
export function isZip(key: string): boolean {
  return key.toLowerCase().endsWith(".zip");
}

/** Unpack a tar (GNU tar detects gzip, bzip2, xz, zstd) or, by extension, zip archive into `dir`. */
export async function unpack(file: string, dir: string, key: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  if (isZip(key)) {
    await extractZip(file, dir);
    return;
  }
  try {
    await run("tar", ["-xf", file, "-C", dir, "--no-same-owner"], {
      maxBuffer: 1024 * 1024,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
    });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new LavaError(
      `cannot unpack ${basename(key)} with tar: ${(e.stderr || e.message).trim().slice(0, 500)}`,
      { cause: err },
    );
  }
}

/** Whether `path` (absolute) is `root` itself or outside it. */
function notInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * The program a pkg command names, inside the unpacked directory: must be a
 * file there (through links too, as long as they resolve inside) and is made
 * executable by its owner. `where` names the payload in errors.
 */
export async function packageProgram(dir: string, program: string, where: string): Promise<string> {
  const path = join(dir, program);
  const root = await realpath(dir);
  if (notInside(dir, path))
    throw new PayloadError(`${where}: command: ${program} is outside the package`);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new PayloadError(`${where}: command: ${program} is not in the package`);
  }
  if (notInside(root, real))
    throw new PayloadError(`${where}: command: ${program} is outside the package`);
  const st = await stat(real);
  if (!st.isFile()) throw new PayloadError(`${where}: command: ${program} is not a file`);
  if ((st.mode & 0o100) === 0) await chmod(real, (st.mode & 0o777) | 0o100);
  return path;
}
