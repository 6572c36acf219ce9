/** Reading realm files from disk (CLI and `cdk synth`); functions get the validated realm in their bundle. */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { parseDocument } from "yaml";
import { SpecError } from "../shared/errors";
import { type Realm, type ValidateOptions, validateRealm } from "./validate";

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
  const realm = validateRealm(doc.toJS(), source, options);
  const ca = realm.top.ssl_ca_file;
  if (ca === undefined || isAbsolute(ca)) return realm;
  return { ...realm, top: { ...realm.top, ssl_ca_file: resolve(dirname(file), ca) } };
}
