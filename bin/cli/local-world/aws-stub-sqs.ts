/**
 * An SQS stub in AWS JSON 1.0 (`AmazonSQS.<Op>`, query-compatible: errors carry the old
 * query-protocol code in `x-amzn-query-error`, which the SDK reads first): GetQueueUrl and
 * SendMessage on queues the test created, with SQS's standard and FIFO rules.
 */
import { createHash, randomUUID } from "node:crypto";
import { ApiError, type JsonHandler, STUB_ACCOUNT, textField } from "./aws-stub-common.js";

/** One message sent to a queue (duplicates a FIFO queue drops are not recorded). */
export interface StubSqsMessage {
  /** The MessageId SendMessage answered. */
  messageId: string;
  body: string;
  delaySeconds?: number;
  groupId?: string;
  /** MessageDeduplicationId as sent. */
  dedupId?: string;
}

/** SQS state the tests seed and inspect. */
export interface SqsState {
  /** Messages by queue name; a queue exists when it has an entry (see {@link createQueue}). */
  queues: Map<string, StubSqsMessage[]>;
  /** Creates a queue (a `.fifo` name makes a FIFO queue) and returns its URL. */
  createQueue(name: string, options?: { contentBasedDeduplication?: boolean }): string;
}

/** Query-protocol codes whose JSON shape is named differently (the SDK maps them back). */
const SHAPES: Record<string, string> = {
  "AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
  "AWS.SimpleQueueService.UnsupportedOperation": "UnsupportedOperation",
};
/** How long a FIFO queue drops a repeated deduplication id. */
const DEDUP_WINDOW_MS = 5 * 60 * 1000;
/** SQS's largest message since 2025 (a queue's MaximumMessageSize may be lower). */
const MAX_BODY_BYTES = 1_048_576;
/** A character SQS refuses in a message body. */
const BAD_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const WRONG_TYPE = "The request include parameter that is not valid for this queue type.";
const TOO_LONG = `Message must be shorter than ${MAX_BODY_BYTES} bytes.`;
const NO_DEDUP =
  "The queue should either have ContentBasedDeduplication enabled or " +
  "MessageDeduplicationId provided explicitly";

/** The JSON error SQS answers: `__type` names the shape, the header carries the query code. */
export function sqsError(type: string, message: string, status: number) {
  const code = Object.keys(SHAPES).find((k) => SHAPES[k] === type) ?? type;
  return {
    headers: { "x-amzn-query-error": `${code};${status >= 500 ? "Receiver" : "Sender"}` },
    payload: { __type: `com.amazonaws.sqs#${SHAPES[type] ?? type}`, message },
  };
}

const noQueue = () =>
  new ApiError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");
const invalid = (message: string) => new ApiError("InvalidParameterValue", message);
const badValue = (field: string, value: unknown, reason: string) =>
  invalid(`Value ${String(value)} for parameter ${field} is invalid. Reason: ${reason}`);
const missing = (field: string) =>
  new ApiError("MissingParameter", `The request must contain the parameter ${field}.`);

/** SQS's refusal of a message body, if any. */
function bodyProblem(text: string): ApiError | undefined {
  if (text === "") return missing("MessageBody");
  const bad = BAD_CHAR.exec(text)?.[0];
  if (bad !== undefined) {
    const hex = (bad.codePointAt(0) ?? 0).toString(16).toUpperCase();
    return new ApiError(
      "InvalidMessageContents",
      `Invalid binary character '#x${hex}' was found in the message body, the set of allowed ` +
        "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    );
  }
  return Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES
    ? invalid(`One or more parameters are invalid. Reason: ${TOO_LONG}`)
    : undefined;
}

/** SQS state and its GetQueueUrl/SendMessage handlers; `endpoint()` starts queue URLs. */
export function sqsStub(endpoint: () => string): {
  state: SqsState;
  handlers: Record<string, JsonHandler>;
} {
  const queues = new Map<string, StubSqsMessage[]>();
  // Keyed by a queue's message list, so clearing `queues` also forgets these.
  const contentDedup = new WeakSet<StubSqsMessage[]>();
  const seen = new WeakMap<StubSqsMessage[], Map<string, { answer: object; at: number }>>();
  let sequence = 0;
  const url = (name: string) => `${endpoint()}/${STUB_ACCOUNT}/${name}`;

  const state: SqsState = {
    queues,
    createQueue(name, options = {}) {
      // CreateQueue's rules; failing here catches a typo in the test, not in the code under test.
      const fifo = name.endsWith(".fifo");
      if (!/^[\w-]{1,80}$/.test(fifo ? name.slice(0, -5) : name) || name.length > 80) {
        throw new Error(`invalid SQS queue name: ${JSON.stringify(name)}`);
      }
      if (options.contentBasedDeduplication && !fifo) {
        throw new Error("contentBasedDeduplication applies to FIFO queues only");
      }
      const log = queues.get(name) ?? [];
      queues.set(name, log);
      if (options.contentBasedDeduplication) contentDedup.add(log);
      return url(name);
    },
  };

  const handlers: Record<string, JsonHandler> = {
    GetQueueUrl(body) {
      const name = textField(body, "QueueName");
      const owner = textField(body, "QueueOwnerAWSAccountId", false) || STUB_ACCOUNT;
      if (owner !== STUB_ACCOUNT || !queues.has(name)) throw noQueue();
      return { QueueUrl: url(name) };
    },
    SendMessage(body) {
      // SQS goes by the URL's path: /<account>/<name>.
      const queueUrl = textField(body, "QueueUrl");
      const path = URL.canParse(queueUrl) ? new URL(queueUrl).pathname.split("/") : [];
      const [, account, name = "", ...rest] = path;
      const log = queues.get(name);
      if (account !== STUB_ACCOUNT || rest.join("") !== "" || !log) throw noQueue();
      const text = typeof body.MessageBody === "string" ? body.MessageBody : "";
      const problem = bodyProblem(text);
      if (problem) throw problem;
      const delay = typeof body.DelaySeconds === "number" ? body.DelaySeconds : undefined;
      if (delay !== undefined && !(Number.isInteger(delay) && delay >= 0 && delay <= 900)) {
        throw badValue("DelaySeconds", delay, "must be between 0 and 900, if provided.");
      }
      const groupId = textField(body, "MessageGroupId", false) || undefined;
      const dedupId = textField(body, "MessageDeduplicationId", false) || undefined;
      const answer = { MessageId: randomUUID(), MD5OfMessageBody: digest("md5", text) };
      const record = <T extends object>(out: T): T => {
        log.push({
          messageId: answer.MessageId,
          body: text,
          ...(delay === undefined ? {} : { delaySeconds: delay }),
          ...(groupId === undefined ? {} : { groupId }),
          ...(dedupId === undefined ? {} : { dedupId }),
        });
        return out;
      };
      if (!name.endsWith(".fifo")) {
        if (dedupId !== undefined) throw badValue("MessageDeduplicationId", dedupId, WRONG_TYPE);
        return record(answer);
      }
      // FIFO: a group id always; delays per queue only; one send per deduplication id and window.
      if (groupId === undefined) throw missing("MessageGroupId");
      if (delay) throw badValue("DelaySeconds", delay, WRONG_TYPE);
      const key = dedupId ?? (contentDedup.has(log) ? digest("sha256", text) : undefined);
      if (key === undefined) throw invalid(NO_DEDUP);
      const window = seen.get(log) ?? new Map<string, { answer: object; at: number }>();
      seen.set(log, window);
      const earlier = window.get(key);
      // A duplicate is accepted, not enqueued: the first send's ids, this body's MD5 (the SDK
      // checks it against what it sent).
      if (earlier && Date.now() - earlier.at < DEDUP_WINDOW_MS) {
        return { ...earlier.answer, MD5OfMessageBody: answer.MD5OfMessageBody };
      }
      sequence += 1;
      const fifoAnswer = { ...answer, SequenceNumber: String(sequence).padStart(20, "0") };
      window.set(key, { answer: fifoAnswer, at: Date.now() });
      return record(fifoAnswer);
    },
  };
  return { state, handlers };
}

/** Hex digest of the UTF-8 text: MD5OfMessageBody as SQS computes (and the SDK checks) it. */
const digest = (algorithm: "md5" | "sha256", text: string) =>
  createHash(algorithm).update(text, "utf8").digest("hex");
