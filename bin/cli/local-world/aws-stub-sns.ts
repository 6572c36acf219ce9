/**
 * An SNS stub in the awsQuery protocol (form-encoded `Action=Publish&Version=2010-03-31&...`,
 * XML answers in SNS's namespace): Publish to topics the test created, with SNS's
 * parameter rules. FIFO topics (MessageGroupId, deduplication) are not modeled.
 */
import { randomUUID } from "node:crypto";
import { STUB_ACCOUNT, STUB_REGION } from "./aws-stub-common.js";

const NS = "http://sns.amazonaws.com/doc/2010-03-31/";
/** SNS's limit on a message (with its attributes; the stub counts the message alone). */
const MAX_MESSAGE_BYTES = 262_144;

/** One message published to a topic. */
export interface StubSnsMessage {
  /** The MessageId Publish answered. */
  messageId: string;
  subject?: string;
  message: string;
}

/** SNS state the tests seed and inspect. */
export interface SnsState {
  /** Messages by topic ARN; a topic exists when it has an entry (see {@link createTopic}). */
  topics: Map<string, StubSnsMessage[]>;
  /** Creates a topic (idempotent, as SNS's CreateTopic) and returns its ARN. */
  createTopic(name: string): string;
}

/** An HTTP answer of the SNS stub. */
export interface SnsAnswer {
  status: number;
  body: string;
}

function xml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An empty SNS state whose topics get ARNs in the stub's region and account. */
export function snsState(): SnsState {
  const topics = new Map<string, StubSnsMessage[]>();
  return {
    topics,
    createTopic(name) {
      // CreateTopic's rule; failing here catches a typo in the test, not in the code under test.
      if (!/^[\w-]{1,256}$/.test(name.replace(/\.fifo$/, ""))) {
        throw new Error(`invalid SNS topic name: ${JSON.stringify(name)}`);
      }
      const arn = `arn:aws:sns:${STUB_REGION}:${STUB_ACCOUNT}:${name}`;
      if (!topics.has(arn)) topics.set(arn, []);
      return arn;
    },
  };
}

/** The awsQuery XML error document, for a real or an injected SNS error. */
export function snsError(error: { status?: number; type: string; message?: string }): SnsAnswer {
  const status = error.status ?? 400;
  const kind = status >= 500 ? "Receiver" : "Sender";
  const body =
    `<ErrorResponse xmlns="${NS}"><Error><Type>${kind}</Type><Code>${xml(error.type)}</Code>` +
    `<Message>${xml(error.message ?? error.type)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status, body };
}

const invalid = (what: string) =>
  snsError({ type: "InvalidParameter", message: `Invalid parameter: ${what}` });

/** SNS's Subject rule: printable ASCII starting with a letter, digit or punctuation, ≤100. */
const SUBJECT = /^[!-~][ -~]{0,99}$/;

function publish(form: Record<string, string>, state: SnsState): SnsAnswer {
  const arn = form.TopicArn ?? form.TargetArn;
  if (arn === undefined) {
    return invalid("TopicArn or TargetArn Reason: no value for required parameter");
  }
  if (!/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w.-]+$/.test(arn)) return invalid("TopicArn");
  const message = form.Message ?? "";
  if (message === "") return invalid("Empty message");
  if (Buffer.byteLength(message, "utf8") > MAX_MESSAGE_BYTES) {
    return invalid("Message too long");
  }
  const subject = form.Subject;
  if (subject !== undefined && !SUBJECT.test(subject)) return invalid("Subject");
  const log = state.topics.get(arn);
  if (!log) return snsError({ status: 404, type: "NotFound", message: "Topic does not exist" });
  const messageId = randomUUID();
  log.push({ messageId, ...(subject === undefined ? {} : { subject }), message });
  const body =
    `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId>` +
    `</PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId>` +
    "</ResponseMetadata></PublishResponse>";
  return { status: 200, body };
}

/** Answers one SNS awsQuery request (`Action=...` form fields). */
export function snsResponse(
  action: string,
  form: Record<string, string>,
  state: SnsState,
): SnsAnswer {
  if (action === "Publish") return publish(form, state);
  return snsError({ type: "InvalidAction", message: `Action ${action} is not stubbed` });
}
