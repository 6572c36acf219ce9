import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ApiError,
  type JsonHandler,
  STUB_ACCESS_KEY_ID,
  STUB_ACCOUNT,
  STUB_ASSUMED_ACCESS_KEY_ID,
  STUB_REGION,
} from "./aws-stub-common.js";
import { eventsHandlers, type StubEvent } from "./aws-stub-events.js";
import { secretArn, secretsHandlers } from "./aws-stub-secrets.js";
import { type SfnState, sfnHandlers } from "./aws-stub-sfn.js";
import { type SnsState, snsError, snsResponse, snsState } from "./aws-stub-sns.js";
import { type SqsState, sqsError, sqsStub } from "./aws-stub-sqs.js";
import { type StubParameter, ssmHandlers } from "./aws-stub-ssm.js";
import { type StsState, stsError, stsResponse } from "./aws-stub-sts.js";

/** Services the stub speaks (as named in SigV4 credential scopes). */
export type StubService = "ssm" | "secretsmanager" | "sts" | "states" | "sns" | "sqs" | "events";

/** Services in a JSON protocol, by their `x-amz-target` prefix. */
const JSON_TARGETS = {
  AmazonSSM: "ssm",
  secretsmanager: "secretsmanager",
  AWSStepFunctions: "states",
  AmazonSQS: "sqs",
  AWSEvents: "events",
} as const;
type JsonService = (typeof JSON_TARGETS)[keyof typeof JSON_TARGETS];

/** One request the stub received, in arrival order. */
export interface StubCall {
  service: StubService;
  op: string;
  /** JSON body (JSON-protocol services) or form fields (STS, SNS). */
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** An error to answer instead of the next matching call(s). */
export interface StubError {
  /** HTTP status. Default 400. */
  status?: number;
  /** Error code, e.g. "ThrottlingException". */
  type: string;
  message?: string;
  /** How many matching calls fail. Default 1. (SDK clients retry throttling errors!) */
  times?: number;
}

/** A running stub of SSM, Secrets Manager, STS, Step Functions, SNS, SQS and EventBridge. */
export interface AwsStub {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Parameters by name; seed directly or with {@link AwsStub.setParameter}. */
  ssm: Map<string, StubParameter>;
  /** SecretString by secret name. */
  secrets: Map<string, string>;
  /** Step Functions executions, and what happens when one starts. */
  states: SfnState;
  /** STS state: the credentials AssumeRole returns (mutable). */
  sts: StsState;
  /** SNS topics (create with `sns.createTopic(name)`, which returns the ARN) and their messages. */
  sns: SnsState;
  /** SQS queues (create with `sqs.createQueue(name)`, which returns the URL) and their messages. */
  sqs: SqsState;
  /** EventBridge events PutEvents accepted, in order. */
  events: StubEvent[];
  /** Every request received, including failed ones. */
  calls: StubCall[];
  /** Seeds a parameter at version 1 (or bumps the version of an existing one). */
  setParameter(name: string, value: string, type?: StubParameter["type"], keyId?: string): void;
  /** Calls of one service (and optionally one operation). */
  callsTo(service: StubService, op?: string): StubCall[];
  /** Makes the next call(s) of `service`/`op` fail with the given error. */
  failNext(service: StubService, op: string, error: StubError): void;
  /** ARN the stub reports for a secret name. */
  secretArn(name: string): string;
  /** Endpoint, region and static credential variables for SDK clients. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  res.end(JSON.stringify(payload));
}

/** A JSON-protocol error; SQS adds the query-protocol code its SDK client reads. */
function sendJsonError(
  res: ServerResponse,
  service: JsonService,
  error: { status?: number; type: string; message?: string },
): void {
  const status = error.status ?? 400;
  const message = error.message ?? error.type;
  if (service !== "sqs") {
    sendJson(res, status, { __type: error.type, message });
    return;
  }
  const { headers, payload } = sqsError(error.type, message, status);
  sendJson(res, status, payload, { "content-type": "application/x-amz-json-1.0", ...headers });
}

/** The service a request is signed for (`Credential=<key>/<date>/<region>/<service>/...`). */
function signingService(headers: IncomingHttpHeaders): string | undefined {
  return /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(headers.authorization ?? "")?.[1];
}

/**
 * Starts one HTTP server on 127.0.0.1 that answers SSM (GetParameter, GetParameters,
 * PutParameter), Secrets Manager (GetSecretValue), Step Functions, SQS (GetQueueUrl,
 * SendMessage) and EventBridge (PutEvents) in their JSON protocols and STS (AssumeRole,
 * GetCallerIdentity) and SNS (Publish) in the query protocol, so the real AWS SDK v3 clients
 * work against it through {@link AwsStub.env}'s endpoint variables.
 */
export async function startAwsStub(): Promise<AwsStub> {
  const started = new Date(Math.floor(Date.now() / 1000) * 1000);
  const failures: Array<{ service: StubService; op: string; error: StubError; left: number }> = [];
  const ssm = new Map<string, StubParameter>();
  const secrets = new Map<string, string>();
  const states: SfnState = { executions: new Map() };
  const events: StubEvent[] = [];
  // Queue URLs name the endpoint, known once the server listens (before any request).
  const sqs = sqsStub(() => endpoint);
  const handlers: Record<JsonService, Record<string, JsonHandler>> = {
    ssm: ssmHandlers(ssm, started),
    secretsmanager: secretsHandlers(secrets, started),
    states: sfnHandlers(states),
    sqs: sqs.handlers,
    events: eventsHandlers(events),
  };

  const takeFailure = (service: StubService, op: string): StubError | undefined => {
    const f = failures.find((x) => x.service === service && x.op === op);
    if (!f) return undefined;
    f.left -= 1;
    if (f.left <= 0) failures.splice(failures.indexOf(f), 1);
    return f.error;
  };

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => handle(req.headers, raw, res))
      .catch((error: unknown) =>
        sendJson(res, 500, { __type: "InternalFailure", message: String(error) }),
      );
  });

  const handle = (headers: IncomingHttpHeaders, raw: string, res: ServerResponse): void => {
    const target = headers["x-amz-target"];
    if (typeof target !== "string") {
      // Query protocol: STS and SNS share the form and the path; the signature names the
      // service (unsigned calls, like AssumeRoleWithWebIdentity, are STS's).
      const form = Object.fromEntries(new URLSearchParams(raw));
      const op = form.Action ?? "";
      const service = signingService(headers) === "sns" ? "sns" : "sts";
      stub.calls.push({ service, op, body: form, headers: { ...headers } });
      const failure = takeFailure(service, op);
      const out =
        service === "sns"
          ? failure
            ? snsError(failure)
            : snsResponse(op, form, stub.sns)
          : failure
            ? stsError(failure)
            : stsResponse(op, form, stub.sts);
      res.writeHead(out.status, { "content-type": "text/xml" });
      res.end(out.body);
      return;
    }
    const [prefix = "", op = ""] = target.split(".");
    const service: JsonService =
      JSON_TARGETS[prefix as keyof typeof JSON_TARGETS] ?? "secretsmanager";
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      sendJson(res, 400, { __type: "SerializationException", message: "invalid JSON" });
      return;
    }
    stub.calls.push({ service, op, body, headers: { ...headers } });
    const failure = takeFailure(service, op);
    if (failure) {
      sendJsonError(res, service, failure);
      return;
    }
    const handler = handlers[service][op];
    if (!handler) {
      sendJson(res, 400, {
        __type: "UnknownOperationException",
        message: `${target} is not stubbed`,
      });
      return;
    }
    try {
      sendJson(res, 200, handler(body));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendJsonError(res, service, error);
    }
  };

  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const stub: AwsStub = {
    endpoint,
    ssm,
    secrets,
    states,
    sns: snsState(),
    sqs: sqs.state,
    events,
    sts: {
      account: STUB_ACCOUNT,
      credentials: {
        accessKeyId: STUB_ASSUMED_ACCESS_KEY_ID,
        secretAccessKey: "stub-assumed-secret",
        sessionToken: "stub-session-token",
        expiration: new Date(Date.now() + 60 * 60 * 1000),
      },
    },
    calls: [],
    setParameter(name, value, type = "String", keyId) {
      const version = (ssm.get(name)?.version ?? 0) + 1;
      ssm.set(name, { value, type, keyId, version });
    },
    callsTo: (service, op) =>
      stub.calls.filter((c) => c.service === service && (op === undefined || c.op === op)),
    failNext(service, op, error) {
      failures.push({ service, op, error, left: error.times ?? 1 });
    },
    secretArn,
    env: () => ({
      AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
      AWS_ENDPOINT_URL_SFN: endpoint,
      AWS_ENDPOINT_URL_SNS: endpoint,
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
      AWS_REGION: STUB_REGION,
      AWS_ACCESS_KEY_ID: STUB_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: "test-secret",
    }),
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
  return stub;
}
