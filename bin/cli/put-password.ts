/** `lava-aurora put-password PARAM [--overwrite]`: stdin → SSM SecureString under the realm key. */

import { isTransient, LavaError } from "../../lambda/shared/errors";
import { realmPrefix } from "../../lambda/spec/validate";
import { EXIT, reportError, UsageError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";
import { readSecretInput } from "./secret-input";

export async function putPasswordCommand(
  param: string,
  flags: RealmFlags & { overwrite?: boolean },
): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const prefix = realmPrefix(realm.name);
    if (!param.startsWith(prefix) || param.length === prefix.length) {
      throw new UsageError(`parameter name must be under ${prefix}, got ${JSON.stringify(param)}`);
    }
    const value = await readSecretInput(process.stdin, process.stderr);
    if (value === "") throw new UsageError("empty password refused (nothing on stdin)");
    const keyId = `alias/lava-${realm.name}-sys`;
    const { SSMClient, PutParameterCommand } = await import("@aws-sdk/client-ssm");
    let version: number | undefined;
    try {
      const out = await new SSMClient({}).send(
        new PutParameterCommand({
          Name: param,
          Value: value,
          Type: "SecureString",
          KeyId: keyId,
          Overwrite: flags.overwrite === true,
          Description: `lava-aurora password (realm ${realm.name})`,
        }),
      );
      version = out.Version;
    } catch (err) {
      const name = err instanceof Error ? err.name : "Error";
      const hint =
        name === "ParameterAlreadyExists" ? ": it exists; add --overwrite to replace it" : "";
      throw new LavaError(`cannot store ${param}: ${name}${hint}`, {
        cause: err,
        retryable: isTransient(err),
      });
    }
    process.stdout.write(
      `stored ${param} (SecureString, version ${version ?? "?"}, key ${keyId})\n`,
    );
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
