/**
 * The AWS CLI connector (docs/exe-pkg.md §5, lava/connection/aws.py `cli_connect_aws`):
 * for an `aws` connection, `$LAVA_CONN_<L>` runs the AWS CLI with that
 * connection's credentials, arguments passed through. lava writes the keys
 * into a config file for a `lava` profile; here they are in the CLI
 * process's environment only, and the CLI reads no config or credentials
 * file, so nothing the payload leaves in `~/.aws` changes what it does.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import type { AwsCredentials } from "./types";

/**
 * The executable `name` on `path` (the runner's PATH, never a payload's), as
 * an absolute path; `undefined` when there is none.
 */
export async function findExecutable(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const file = join(dir, name);
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}

/** The AWS CLI (`aws`) on the runner's PATH. */
export function findAwsCli(path = process.env.PATH ?? ""): Promise<string | undefined> {
  return findExecutable("aws", path);
}

/**
 * The AWS_* variables of the CLI process: the connection's credentials and
 * region, and no config or credentials file (lava's connector uses a config
 * file of its own, never the user's).
 */
export function awsCliEnv(
  credentials: AwsCredentials,
  region: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  if (region) {
    env.AWS_REGION = region;
    // Older CLI versions read only AWS_DEFAULT_REGION.
    env.AWS_DEFAULT_REGION = region;
  }
  return env;
}
