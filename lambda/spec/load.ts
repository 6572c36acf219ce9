/** Reading realm files from disk (CLI and `cdk synth`); functions get the validated realm in their bundle. */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { type Document, parseDocument } from "yaml";
import { SpecError } from "../shared/errors";
import type { Realm } from "./realm";
import { type ValidateOptions, validateRealm } from "./validate";

/** `realms/<name>.yaml` under `cwd`. */
export function realmFileFor(name: string, cwd = process.cwd()): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new SpecError([
      `--realm: expected a realm name of lower-case letters, digits and -, got ${JSON.stringify(name)}`,
    ]);
  }
  return resolve(cwd, "realms", `${name}.yaml`);
}

/**
 * How many alias expansions a realm file may need (yaml's `maxAliasCount`, its
 * default made explicit): a "billion laughs" file of nested aliases is
 * refused instead of expanded into gigabytes.
 */
const MAX_ALIAS_COUNT = 100;

/** The document as plain data; yaml's resource exhaustion guard becomes a spec error naming the file. */
function toPlain(doc: Document, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const why =
      err instanceof ReferenceError && /alias count/i.test(err.message)
        ? `too many YAML aliases (more than ${MAX_ALIAS_COUNT} expansions); a realm file needs few, if any`
        : `cannot read the YAML: ${(err as Error).message}`;
    throw new SpecError([`${source}: ${why}`], { cause: err });
  }
}

/**
 * Read, parse and validate a realm file. Paths inside it (`ssl_ca_file`) are
 * made absolute relative to the file's folder.
 */
export async function loadRealmFile(file: string, options: ValidateOptions = {}): Promise<Realm> {
  const shown = relative(process.cwd(), file) || file;
  const source = shown.startsWith("..") ? file : shown;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new SpecError([`${source}: cannot read the realm file: ${why}`], { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => {
        const message = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:$/, "");
        return `${source}: line ${e.linePos?.[0]?.line ?? "?"}: ${message}`;
      }),
    );
  }
  const realm = validateRealm(toPlain(doc, source), source, options);
  const ca = realm.top.ssl_ca_file;
  if (ca === undefined || isAbsolute(ca)) return realm;
  return { ...realm, top: { ...realm.top, ssl_ca_file: resolve(dirname(file), ca) } };
}
