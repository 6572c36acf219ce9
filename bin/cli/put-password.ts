/** `lava-aurora put-password PARAM [--overwrite]`: stdin → SSM SecureString under the realm key. */

import { isTransient, LavaError } from "../../lambda/shared/errors";
import { realmPrefix } from "../../lambda/spec/validate";
import { EXIT, reportError, UsageError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";
import { readSecretInput } from "./secret-input";

/** Refuse a parameter name outside `/lava/<realm>/` (before anything is read or sent). */
export function checkPasswordName(realmName: string, param: string): void {
  const prefix = realmPrefix(realmName);
  if (!param.startsWith(prefix) || param.length === prefix.length) {
    throw new UsageError(`parameter name must be under ${prefix}, got ${JSON.stringify(param)}`);
  }
}

/** What put-password stored (`--json` prints it); never the value. */
export interface StoredPassword {
  readonly parameter: string;
  readonly type: "SecureString";
  readonly version: number | null;
  readonly key_id: string;
}

/**
 * Store `value` as an SSM SecureString encrypted with `alias/lava-<realm>-sys` (SDK default
 * chain) and return the line the command prints; the value never appears in it or in errors.
 */
export async function storePassword(
  realmName: string,
  param: string,
  value: string,
  overwrite = false,
): Promise<string> {
  const s = await putPassword(realmName, param, value, overwrite);
  return `stored ${s.parameter} (SecureString, version ${s.version ?? "?"}, key ${s.key_id})`;
}

/** As {@link storePassword}, returning what was stored. */
export async function putPassword(
  realmName: string,
  param: string,
  value: string,
  overwrite = false,
): Promise<StoredPassword> {
  checkPasswordName(realmName, param);
  if (value === "") throw new UsageError("empty password refused (nothing on stdin)");
  const keyId = `alias/lava-${realmName}-sys`;
  const { SSMClient, PutParameterCommand } = await import("@aws-sdk/client-ssm");
  const client = new SSMClient({});
  try {
    const out = await client.send(
      new PutParameterCommand({
        Name: param,
        Value: value,
        Type: "SecureString",
        KeyId: keyId,
        Overwrite: overwrite,
        Description: `lava-aurora password (realm ${realmName})`,
      }),
    );
    return { parameter: param, type: "SecureString", version: out.Version ?? null, key_id: keyId };
  } catch (err) {
    const name = err instanceof Error ? err.name : "Error";
    const hint =
      name === "ParameterAlreadyExists" ? ": it exists; add --overwrite to replace it" : "";
    throw new LavaError(`cannot store ${param}: ${name}${hint}`, {
      cause: err,
      retryable: isTransient(err),
    });
  } finally {
    client.destroy();
  }
}

export async function putPasswordCommand(
  param: string,
  flags: RealmFlags & { overwrite?: boolean; json?: boolean },
): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    checkPasswordName(realm.name, param);
    const value = await readSecretInput(process.stdin, process.stderr);
    const overwrite = flags.overwrite === true;
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(await putPassword(realm.name, param, value, overwrite), null, 2)}\n`
        : `${await storePassword(realm.name, param, value, overwrite)}\n`,
    );
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
