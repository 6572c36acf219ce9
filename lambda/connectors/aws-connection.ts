/**
 * `aws` connections (docs/connections.md §3): credentials for db_from_s3's S3 reads and for
 * the AWS CLI of exe/pkg payloads, either access keys kept in an SSM
 * SecureString (`access_key_id,secret_access_key`) or an assumed role's
 * session credentials (lava/connection/aws.py).
 */

import { ConnectionConfigError } from "../shared/errors";
import type { AwsConnectionSpec } from "../spec/connection";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import { realmPrefix } from "../spec/validate";
import { type RoleAssumer, roleSessionName, stsAssumeRole } from "./aws-assume-role";
import { findConnection } from "./resolve-connection";
import type { SecretStore } from "./secret-store";
import type { AwsCredentials, ResolvedAws } from "./types";

export { type AssumeRoleRequest, type RoleAssumer, stsAssumeRole } from "./aws-assume-role";

/** What resolving an aws connection needs. */
export interface AwsResolveDeps {
  /** SSM reads: access keys and external IDs (cached as passwords are). */
  readonly store: SecretStore;
  /** @default stsAssumeRole - STS through the SDK's default chain */
  readonly assumeRole?: RoleAssumer;
  /** The job's application name, `lv-<realm>-<job_id>`: the role session name, cleaned. */
  readonly applicationName: string;
}

/** Assumed credentials are reused until this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const assumed = new Map<string, AwsCredentials>();

/** An SSM parameter name of the connection, refused (before any AWS call) outside the realm. */
function realmParameter(realm: Realm, connId: string, field: string, name: string): string {
  const prefix = realmPrefix(realm.name);
  if (!name.startsWith(prefix)) {
    throw new ConnectionConfigError(
      `connection ${connId}: ${field}: SSM parameter ${name} is outside ${prefix}`,
    );
  }
  return name;
}

function accessKeys(
  realm: Realm,
  spec: AwsConnectionSpec & { access_keys: string },
  store: SecretStore,
): () => Promise<AwsCredentials> {
  const connId = spec.conn_id;
  const name = realmParameter(realm, connId, "access_keys", spec.access_keys);
  return async () => {
    const parts = (await store.getParameter(name)).split(",").map((p) => p.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new ConnectionConfigError(
        `connection ${connId}: SSM parameter ${name} must hold access_key_id,secret_access_key`,
      );
    }
    return { accessKeyId: parts[0], secretAccessKey: parts[1] };
  };
}

function assumedRole(
  realm: Realm,
  spec: AwsConnectionSpec & { role_arn: string },
  deps: AwsResolveDeps,
): () => Promise<AwsCredentials> {
  const connId = spec.conn_id;
  const externalIdName =
    spec.external_id === undefined
      ? undefined
      : realmParameter(realm, connId, "external_id", spec.external_id);
  const sessionName = roleSessionName(deps.applicationName);
  const policyArns =
    spec.policy_arns === undefined
      ? undefined
      : typeof spec.policy_arns === "string"
        ? [spec.policy_arns]
        : spec.policy_arns;
  const request = {
    roleArn: spec.role_arn,
    sessionName,
    durationSeconds: Math.round((parseDuration(spec.duration ?? "1h") ?? 3600_000) / 1000),
    ...(policyArns ? { policyArns } : {}),
    ...(spec.policy ? { policy: JSON.stringify(spec.policy) } : {}),
    ...(spec.tags
      ? { tags: Object.entries(spec.tags).map(([key, value]) => ({ key, value })) }
      : {}),
  };
  const assume = deps.assumeRole ?? stsAssumeRole;
  // Per job (session name), so CloudTrail names the job that used the credentials.
  const cacheKey = JSON.stringify([realm.name, spec, sessionName]);
  return async () => {
    const cached = assumed.get(cacheKey);
    if (cached?.expiration && cached.expiration.getTime() - Date.now() > REFRESH_MARGIN_MS)
      return cached;
    const externalId =
      externalIdName === undefined ? undefined : await deps.store.getParameter(externalIdName);
    const fresh = await assume({ ...request, ...(externalId ? { externalId } : {}) });
    // One entry per job and connection: drop the expired ones so a warm function does not collect them.
    for (const [key, c] of assumed)
      if (!c.expiration || c.expiration.getTime() <= Date.now()) assumed.delete(key);
    assumed.set(cacheKey, fresh);
    return fresh;
  };
}

/** Resolve an `aws` connection; credentials are fetched when first asked for. */
export function resolveAwsConnection(
  realm: Realm,
  connId: string,
  deps: AwsResolveDeps,
): ResolvedAws {
  const spec = findConnection(realm, connId);
  if (spec.type !== "aws") {
    throw new ConnectionConfigError(
      `connection ${connId}: is of type ${spec.type}, expected an aws connection`,
    );
  }
  const { access_keys, role_arn } = spec;
  let credentials: () => Promise<AwsCredentials>;
  if (access_keys !== undefined)
    credentials = accessKeys(realm, { ...spec, access_keys }, deps.store);
  else if (role_arn !== undefined) credentials = assumedRole(realm, { ...spec, role_arn }, deps);
  else throw new ConnectionConfigError(`connection ${connId}: needs access_keys or role_arn`);
  return { connId, region: spec.region, credentials };
}
