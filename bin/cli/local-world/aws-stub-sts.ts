import { randomUUID } from "node:crypto";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** Credentials the STS stub hands out from AssumeRole. */
export interface StubCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Mutable state of the STS stub. */
export interface StsState {
  /** Account id in returned ARNs. */
  account: string;
  /** What AssumeRole returns; replace to test credential handling. */
  credentials: StubCredentials;
}

/** An HTTP answer of the STS stub. */
export interface StsAnswer {
  status: number;
  body: string;
}

function xml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function requestId(): string {
  return `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
}

/** The query-protocol XML error document for an injected or real STS error. */
export function stsError(error: { status?: number; type: string; message?: string }): StsAnswer {
  const status = error.status ?? 400;
  const kind = status >= 500 ? "Receiver" : "Sender";
  const body =
    `<ErrorResponse xmlns="${NS}"><Error><Type>${kind}</Type><Code>${xml(error.type)}</Code>` +
    `<Message>${xml(error.message ?? error.type)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status, body };
}

/** An AssumeRole request as the stub read it from the query-protocol form. */
export interface AssumeRoleRequest {
  roleArn: string;
  roleSessionName: string;
  externalId: string | undefined;
  durationSeconds: number | undefined;
  /** `PolicyArns.member.N.arn`, in order. */
  policyArns: string[];
  /** `Policy`, as sent (a JSON document). */
  policy: string | undefined;
  /** `Tags.member.N.Key`/`.Value`, in order. */
  tags: Array<{ key: string; value: string }>;
}

/** The `<prefix>.member.N.<field>` lists of a query-protocol form, in N order. */
function members(form: Record<string, string>, prefix: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const re = new RegExp(`^${prefix}\\.member\\.(\\d+)\\.(\\w+)$`);
  for (const [k, v] of Object.entries(form)) {
    const m = re.exec(k);
    if (!m) continue;
    const i = Number(m[1]) - 1;
    out[i] = { ...out[i], [m[2] as string]: v };
  }
  return out;
}

/** Reads an AssumeRole form (as recorded in `calls[].body`) into its fields. */
export function assumeRoleRequest(form: Record<string, unknown>): AssumeRoleRequest {
  const f = form as Record<string, string>;
  return {
    roleArn: f.RoleArn ?? "",
    roleSessionName: f.RoleSessionName ?? "",
    externalId: f.ExternalId,
    durationSeconds: f.DurationSeconds === undefined ? undefined : Number(f.DurationSeconds),
    policyArns: members(f, "PolicyArns").map((m) => m.arn ?? ""),
    policy: f.Policy,
    tags: members(f, "Tags").map((m) => ({ key: m.Key ?? "", value: m.Value ?? "" })),
  };
}

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** What real STS refuses in an AssumeRole request (API reference constraints), or undefined. */
function assumeRoleProblem(r: AssumeRoleRequest): { type: string; message: string } | undefined {
  const invalid = (message: string) => ({ type: "ValidationError", message });
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+/.test(r.roleArn))
    return invalid("RoleArn is required and must be a role ARN");
  if (!/^[\w+=,.@-]{2,64}$/.test(r.roleSessionName))
    return invalid(`RoleSessionName ${JSON.stringify(r.roleSessionName)} fails [\\w+=,.@-]{2,64}`);
  if (r.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(r.externalId))
    return invalid("ExternalId fails [\\w+=,.@:/-]{2,1224}");
  if (r.durationSeconds !== undefined && !(r.durationSeconds >= 900 && r.durationSeconds <= 43200))
    return invalid("DurationSeconds must be 900-43200");
  if (r.policyArns.length > 10) return invalid("PolicyArns: at most 10");
  for (const arn of r.policyArns)
    if (!/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/.+/.test(arn))
      return invalid(`PolicyArns: ${arn} is not a policy ARN`);
  if (r.policy !== undefined) {
    if (r.policy.length < 1 || r.policy.length > 2048)
      return invalid("Policy must be 1-2048 characters");
    try {
      JSON.parse(r.policy);
    } catch {
      return { type: "MalformedPolicyDocument", message: "Policy is not JSON" };
    }
  }
  if (r.tags.length > 50) return invalid("Tags: at most 50");
  const keys = new Set<string>();
  for (const { key, value } of r.tags) {
    if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key))
      return invalid(`Tags: bad key ${JSON.stringify(key)}`);
    if (value.length > 256 || !TAG_TEXT.test(value)) return invalid(`Tags: bad value for ${key}`);
    if (keys.has(key.toLowerCase())) return invalid(`Tags: duplicate key ${key}`);
    keys.add(key.toLowerCase());
  }
  return undefined;
}

function assumeRole(form: Record<string, string>, state: StsState): StsAnswer {
  const request = assumeRoleRequest(form);
  const problem = assumeRoleProblem(request);
  if (problem) return stsError(problem);
  const roleArn = request.roleArn;
  const session = request.roleSessionName;
  const [, account = state.account] = /::(\d{12}):/.exec(roleArn) ?? [];
  const roleName = roleArn.split("/").pop() ?? "";
  const c = state.credentials;
  const body =
    `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult><Credentials>` +
    `<AccessKeyId>${xml(c.accessKeyId)}</AccessKeyId>` +
    `<SecretAccessKey>${xml(c.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xml(c.sessionToken)}</SessionToken>` +
    `<Expiration>${c.expiration.toISOString()}</Expiration></Credentials>` +
    `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(session)}</Arn>` +
    `<AssumedRoleId>AROASTUBROLEID0000001:${xml(session)}</AssumedRoleId></AssumedRoleUser>` +
    `</AssumeRoleResult>${requestId()}</AssumeRoleResponse>`;
  return { status: 200, body };
}

function callerIdentity(state: StsState): StsAnswer {
  const body =
    `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult>` +
    `<Arn>arn:aws:iam::${state.account}:user/stub</Arn><UserId>AIDASTUBUSER00000001</UserId>` +
    `<Account>${state.account}</Account></GetCallerIdentityResult>${requestId()}` +
    "</GetCallerIdentityResponse>";
  return { status: 200, body };
}

/** Answers one STS query-protocol request (`Action=...` form fields). */
export function stsResponse(
  action: string,
  form: Record<string, string>,
  state: StsState,
): StsAnswer {
  if (action === "AssumeRole") return assumeRole(form, state);
  if (action === "GetCallerIdentity") return callerIdentity(state);
  return stsError({ type: "InvalidAction", message: `Action ${action} is not stubbed` });
}
