/**
 * Actions sent with AWS's services (docs/actions.md §3): SNS Publish, SQS
 * SendMessage (a queue name is looked up with GetQueueUrl), EventBridge
 * PutEvents, and for `dispatch` an execution of the realm's state machine — or,
 * from `lava-aurora run`, the job run here. Clients are made once, on first use.
 */

import type { ActionSenders } from "./actions";
import type { Dispatch } from "./types";

export interface SenderOptions {
  /** Where `dispatch` starts executions; without it, `runHere` runs the job. */
  readonly stateMachineArn?: string;
  readonly runHere?: (dispatch: Dispatch) => Promise<void>;
  readonly log: (message: string) => void;
}

export function awsActionSenders(options: SenderOptions): ActionSenders {
  const once = <T>(make: () => Promise<T>) => {
    let made: Promise<T> | undefined;
    return () => {
      made ??= make();
      return made;
    };
  };
  const sns = once(async () => {
    const m = await import("@aws-sdk/client-sns");
    return { client: new m.SNSClient({}), m };
  });
  const sqs = once(async () => {
    const m = await import("@aws-sdk/client-sqs");
    return { client: new m.SQSClient({}), m };
  });
  const events = once(async () => {
    const m = await import("@aws-sdk/client-eventbridge");
    return { client: new m.EventBridgeClient({}), m };
  });
  const sfn = once(async () => {
    const m = await import("@aws-sdk/client-sfn");
    return { client: new m.SFNClient({}), m };
  });
  return {
    async sns(topic, message, subject) {
      const { client, m } = await sns();
      await client.send(
        new m.PublishCommand({
          TopicArn: topic,
          Message: message,
          ...(subject ? { Subject: subject } : {}),
        }),
      );
    },
    async sqs(queue, body, o) {
      const { client, m } = await sqs();
      const url = /^https?:\/\//.test(queue)
        ? queue
        : (await client.send(new m.GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
      await client.send(
        new m.SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          ...(o.delaySeconds === undefined ? {} : { DelaySeconds: o.delaySeconds }),
          ...(o.groupId === undefined ? {} : { MessageGroupId: o.groupId }),
          ...(o.dedupId === undefined ? {} : { MessageDeduplicationId: o.dedupId }),
        }),
      );
    },
    async event(e) {
      const { client, m } = await events();
      const out = await client.send(
        new m.PutEventsCommand({
          Entries: [
            {
              EventBusName: e.bus,
              Source: e.source,
              DetailType: e.detailType,
              Detail: e.detail,
              Resources: e.resources,
            },
          ],
        }),
      );
      // PutEvents reports a refused entry in the answer, not as an error.
      const failed = out.Entries?.find((x) => x.ErrorCode);
      if ((out.FailedEntryCount ?? 0) > 0 || failed)
        throw new Error(
          `event refused: ${failed?.ErrorCode ?? "?"}: ${failed?.ErrorMessage ?? ""}`,
        );
    },
    log: options.log,
    async dispatch(dispatch, name) {
      if (!options.stateMachineArn) {
        if (!options.runHere) throw new Error("dispatch needs the realm's state machine");
        await options.runHere(dispatch);
        return;
      }
      const { client, m } = await sfn();
      await client.send(
        new m.StartExecutionCommand({
          stateMachineArn: options.stateMachineArn,
          name,
          input: JSON.stringify(dispatch),
        }),
      );
    },
  };
}
