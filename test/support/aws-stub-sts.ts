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

function assumeRole(form: Record<string, string>, state: StsState): StsAnswer {
  const roleArn = form.RoleArn ?? "";
  const session = form.RoleSessionName ?? "";
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+/.test(roleArn) || !session) {
    return stsError({
      type: "ValidationError",
      message: "RoleArn and RoleSessionName are required",
    });
  }
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
