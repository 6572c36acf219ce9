/**
 * `aws` connections (SPEC §3.1): S3 credentials for db_from_s3, either access
 * keys kept in an SSM SecureString (`access_key_id,secret_access_key`) or an
 * assumed role's session credentials.
 */

import { ConnectionConfigError, isTransient, SecretAccessError } from "../shared/errors";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import { realmPrefix } from "../spec/validate";
import { findConnection } from "./resolve-connection";
import type { SecretStore } from "./secret-store";
import type { AwsCredentials, ResolvedAws } from "./types";

/** Assumes a role; injected so tests can point it anywhere. */
export type RoleAssumer = (request: {
  roleArn: string;
  sessionName: string;
  externalId?: string;
  durationSeconds: number;
}) => Promise<AwsCredentials>;

/** STS AssumeRole through the SDK's default chain (AWS_ENDPOINT_URL_STS honoured). */
export const stsAssumeRole: RoleAssumer = async ({
  roleArn,
  sessionName,
  externalId,
  durationSeconds,
}) => {
  const { STSClient, AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  try {
    const out = await new STSClient({}).send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        ExternalId: externalId,
        DurationSeconds: durationSeconds,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error("AssumeRole returned no credentials");
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  } catch (err) {
    const name = err instanceof Error ? err.name : "Error";
    throw new SecretAccessError(`cannot assume role ${roleArn}: ${name}`, {
      cause: err,
      retryable: isTransient(err),
    });
  }
};

/** Assumed credentials are reused until this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const assumed = new Map<string, AwsCredentials>();

/** Resolve an `aws` connection; credentials are fetched when first asked for. */
export function resolveAwsConnection(
  realm: Realm,
  connId: string,
  deps: { store: SecretStore; assumeRole?: RoleAssumer },
): ResolvedAws {
  const spec = findConnection(realm, connId);
  if (spec.type !== "aws") {
    throw new ConnectionConfigError(
      `connection ${connId}: is of type ${spec.type}, expected an aws connection`,
    );
  }
  const prefix = realmPrefix(realm.name);
  let credentials: () => Promise<AwsCredentials>;
  if (spec.access_keys !== undefined) {
    const name = spec.access_keys;
    if (!name.startsWith(prefix)) {
      throw new ConnectionConfigError(
        `connection ${connId}: access_keys: SSM parameter ${name} is outside ${prefix}`,
      );
    }
    credentials = async () => {
      const parts = (await deps.store.getParameter(name)).split(",").map((p) => p.trim());
      if (parts.length !== 2 || !parts[0] || !parts[1]) {
        throw new ConnectionConfigError(
          `connection ${connId}: SSM parameter ${name} must hold access_key_id,secret_access_key`,
        );
      }
      return { accessKeyId: parts[0], secretAccessKey: parts[1] };
    };
  } else if (spec.role_arn !== undefined) {
    const roleArn = spec.role_arn;
    const durationSeconds = Math.round((parseDuration(spec.duration ?? "1h") ?? 3600_000) / 1000);
    const assume = deps.assumeRole ?? stsAssumeRole;
    const cacheKey = `${realm.name}\n${connId}\n${roleArn}\n${spec.external_id ?? ""}`;
    credentials = async () => {
      const cached = assumed.get(cacheKey);
      if (cached?.expiration && cached.expiration.getTime() - Date.now() > REFRESH_MARGIN_MS)
        return cached;
      const fresh = await assume({
        roleArn,
        sessionName: `lava-${realm.name}-${connId}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64),
        externalId: spec.external_id,
        durationSeconds,
      });
      assumed.set(cacheKey, fresh);
      return fresh;
    };
  } else {
    throw new ConnectionConfigError(`connection ${connId}: needs access_keys or role_arn`);
  }
  return { connId, region: spec.region, credentials };
}
