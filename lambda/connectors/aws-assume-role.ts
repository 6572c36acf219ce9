/**
 * STS AssumeRole for `aws` connections with `role_arn` (docs/connections.md §3), with
 * lava's session options (lava/connection/aws.py `assume_role`): external ID,
 * managed and inline session policies, session tags, and a session name
 * `lv-<realm>-<job_id>` cleaned to STS's rules.
 */
import { isTransient, SecretAccessError } from "../shared/errors";
import type { AwsCredentials } from "./types";

/** One AssumeRole call. `externalId` is the ID itself (read from SSM), not its parameter name. */
export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: string;
  readonly durationSeconds: number;
  /** Managed session policies. */
  readonly policyArns?: readonly string[];
  /** Inline session policy, JSON. */
  readonly policy?: string;
  readonly tags?: readonly { readonly key: string; readonly value: string }[];
}

/** Assumes a role; injected so tests can point it anywhere. */
export type RoleAssumer = (request: AssumeRoleRequest) => Promise<AwsCredentials>;

/** STS's RoleSessionName limits. */
const SESSION_NAME_MAX = 64;
const SESSION_NAME_MIN = 2;

/**
 * A role session name from an application name (`lv-<realm>-<job_id>`), as
 * lava makes it (`clean_str(name, safe_chars='=,.@-', alternative='.')`, cut
 * to 64): accents dropped, each run of characters outside `[\w+=,.@-]`
 * replaced by one `.`, cut to 64 characters (and at least 2).
 */
export function roleSessionName(applicationName: string): string {
  const ascii = applicationName.normalize("NFKD").replace(/[^\x20-\x7e]/g, "");
  return ascii
    .replace(/[^\w+=,.@-]+/g, ".")
    .slice(0, SESSION_NAME_MAX)
    .padEnd(SESSION_NAME_MIN, ".");
}

/** STS AssumeRole through the SDK's default chain (AWS_ENDPOINT_URL_STS honoured). */
export const stsAssumeRole: RoleAssumer = async (request) => {
  const { STSClient, AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  try {
    const out = await new STSClient({}).send(
      new AssumeRoleCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        ExternalId: request.externalId,
        DurationSeconds: request.durationSeconds,
        PolicyArns: request.policyArns?.map((arn) => ({ arn })),
        Policy: request.policy,
        Tags: request.tags?.map(({ key, value }) => ({ Key: key, Value: value })),
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
    // The error's name (AccessDenied, PackedPolicyTooLarge, …), never the request: it may hold the external ID.
    const name = err instanceof Error ? err.name : "Error";
    throw new SecretAccessError(`cannot assume role ${request.roleArn}: ${name}`, {
      cause: err,
      retryable: isTransient(err),
    });
  }
};
