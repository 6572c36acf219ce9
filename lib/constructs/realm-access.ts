/**
 * What the runner may touch, and nothing more (docs/realm-files.md §6): the realm's
 * SSM parameters and secrets, rds-db:connect for its IAM database users, S3
 * reads on its sources (prefix-scoped), reads and writes on its temporary
 * location. Every resource is an ARN of the realm; no `*`.
 */
import { ArnFormat, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { parseS3Location } from "../../lambda/shared/s3-objects";
import type { ActionSpec } from "../../lambda/spec/actions";
import { isAuroraType } from "../../lambda/spec/connection";
import type { Realm } from "../../lambda/spec/realm";
import { secretName } from "../../lambda/spec/validate";
import { prefixReadStatements, s3ArnOf } from "./s3-prefix-read";

/** Database users that authenticate with IAM tokens: Aurora connections with neither password nor secret, plus `iam_users`. */
export function iamDatabaseUsers(realm: Realm): string[] {
  const users = new Set<string>();
  for (const c of realm.connections) {
    if (c.type === "aws" || !isAuroraType(c.type)) continue;
    if (c.password === undefined && c.secret_id === undefined && c.user !== undefined)
      users.add(c.user);
  }
  for (const cluster of realm.top.aurora_clusters ?? [])
    for (const u of cluster.iam_users ?? []) users.add(u);
  return [...users].sort();
}

/** Statements for a principal that runs the realm's jobs. */
export function realmAccessStatements(stack: Stack, realm: Realm): iam.PolicyStatement[] {
  const name = realm.name;
  const statements: iam.PolicyStatement[] = [
    new iam.PolicyStatement({
      sid: "RealmParameters",
      actions: ["ssm:GetParameter", "ssm:GetParameters"],
      resources: [
        stack.formatArn({ service: "ssm", resource: "parameter", resourceName: `lava/${name}/*` }),
      ],
    }),
  ];
  const secretArn = (nameOrArn: string) =>
    nameOrArn.startsWith("arn:")
      ? nameOrArn
      : stack.formatArn({
          service: "secretsmanager",
          resource: "secret",
          resourceName: `${secretName(nameOrArn)}-??????`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
  statements.push(
    new iam.PolicyStatement({
      sid: "RealmSecrets",
      actions: ["secretsmanager:GetSecretValue"],
      resources: [
        stack.formatArn({
          service: "secretsmanager",
          resource: "secret",
          resourceName: `/lava/${name}/*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        ...(realm.top.secrets ?? []).map(secretArn),
      ],
    }),
  );
  const users = iamDatabaseUsers(realm);
  const clusters = realm.top.aurora_clusters ?? [];
  if (users.length > 0 && clusters.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: "DatabaseUsers",
        actions: ["rds-db:connect"],
        resources: clusters.flatMap((c) =>
          users.map((u) =>
            stack.formatArn({
              service: "rds-db",
              resource: "dbuser",
              resourceName: `${c.cluster_resource_id}/${u}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ),
        ),
      }),
    );
  }
  const sources = realm.top.s3_sources ?? [];
  if (sources.length > 0) {
    const read = prefixReadStatements(
      stack,
      sources.map((src) => ({ bucket: src.bucket, keyPrefix: src.prefix ?? "" })),
      { objectActions: ["s3:GetObject", "s3:GetObjectVersion"], sid: "Sources" },
    );
    // ListBucket: skip_missing needs S3's 404, which it answers with 403 without it.
    statements.push(read.objects, ...read.lists);
    const keys = sources.flatMap((s) => (s.kms_key_arn ? [s.kms_key_arn] : []));
    if (keys.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: "DecryptSources",
          actions: ["kms:Decrypt"],
          resources: keys,
        }),
      );
    }
  }
  if (realm.top.s3_temp) {
    const temp = parseS3Location(realm.top.s3_temp);
    statements.push(
      new iam.PolicyStatement({
        sid: "UseTemp",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        resources: [s3ArnOf(stack, temp.bucket, `${temp.prefix ? `${temp.prefix}/` : ""}*`)],
      }),
    );
  }
  // aws connections with role_arn: assume exactly those roles (and tag the session where asked).
  const roles = realm.connections.flatMap((c) =>
    c.type === "aws" && c.role_arn ? [{ arn: c.role_arn, tags: c.tags !== undefined }] : [],
  );
  if (roles.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: "AssumeConnectionRoles",
        actions: ["sts:AssumeRole"],
        resources: [...new Set(roles.map((r) => r.arn))],
      }),
    );
    const tagged = [...new Set(roles.filter((r) => r.tags).map((r) => r.arn))];
    if (tagged.length > 0)
      statements.push(
        new iam.PolicyStatement({
          sid: "TagConnectionSessions",
          actions: ["sts:TagSession"],
          resources: tagged,
        }),
      );
  }
  return statements;
}

/** exe/pkg payloads: read under `s3_payloads` (objects and listing, for prefix payloads). */
export function payloadStatements(stack: Stack, realm: Realm): iam.PolicyStatement[] {
  if (!realm.top.s3_payloads) return [];
  const { bucket, prefix } = parseS3Location(realm.top.s3_payloads);
  const read = prefixReadStatements(stack, [{ bucket, keyPrefix: prefix ? `${prefix}/` : "" }], {
    objectActions: ["s3:GetObject"],
    sid: "Payloads",
  });
  return [read.objects, ...read.lists];
}

/** The realm's and its jobs' actions of one type (docs/actions.md §5). */
function actionsOfType<T extends ActionSpec["action"]>(realm: Realm, type: T) {
  const lists = [realm.top, ...realm.jobs].flatMap((o) => [
    ...(o.on_success ?? []),
    ...(o.on_fail ?? []),
    ...(o.on_retry ?? []),
  ]);
  return lists.filter((a): a is Extract<ActionSpec, { action: T }> => a.action === type);
}

/**
 * What the runner may send for the realm's actions, and nothing more: Publish on
 * the topics they name, SendMessage on their queues, PutEvents on their buses,
 * StartExecution of the realm's state machine for `dispatch`. A templated bus or
 * queue cannot be named here: it gets no grant (and the action fails, reported).
 */
export function actionStatements(
  stack: Stack,
  realm: Realm,
  stateMachineArn: string,
): iam.PolicyStatement[] {
  const out: iam.PolicyStatement[] = [];
  const unique = (xs: string[]) => [...new Set(xs)].sort();
  const isTemplate = (v: string) => /\{\{|\{%/.test(v);
  const topics = unique(actionsOfType(realm, "sns").map((a) => a.topic));
  if (topics.length > 0)
    out.push(
      new iam.PolicyStatement({ sid: "ActionTopics", actions: ["sns:Publish"], resources: topics }),
    );
  const queueArn = (q: string) => {
    // A URL https://sqs.<region>.amazonaws.com/<account>/<name>, or a name in this account.
    const url = /^https?:\/\/sqs\.([a-z0-9-]+)\.[^/]+\/(\d{12})\/([^/?#]+)$/.exec(q);
    return url
      ? stack.formatArn({ service: "sqs", region: url[1], account: url[2], resource: url[3] ?? "" })
      : stack.formatArn({ service: "sqs", resource: q });
  };
  const queues = unique(
    actionsOfType(realm, "sqs")
      .map((a) => a.queue)
      .filter((q) => !isTemplate(q))
      .map(queueArn),
  );
  if (queues.length > 0)
    out.push(
      new iam.PolicyStatement({
        sid: "ActionQueues",
        actions: ["sqs:SendMessage", "sqs:GetQueueUrl"],
        resources: queues,
      }),
    );
  const buses = unique(
    actionsOfType(realm, "event")
      .map((a) => a.event_bus ?? "default")
      .filter((b) => !isTemplate(b))
      .map((b) =>
        b.startsWith("arn:")
          ? b
          : stack.formatArn({ service: "events", resource: "event-bus", resourceName: b }),
      ),
  );
  if (buses.length > 0)
    out.push(
      new iam.PolicyStatement({
        sid: "ActionEvents",
        actions: ["events:PutEvents"],
        resources: buses,
      }),
    );
  // dispatch actions, and dispatch jobs, start executions of the realm's state machine.
  if (actionsOfType(realm, "dispatch").length > 0 || realm.jobs.some((j) => j.type === "dispatch"))
    out.push(
      new iam.PolicyStatement({
        sid: "ActionDispatch",
        actions: ["states:StartExecution"],
        resources: [stateMachineArn],
      }),
    );
  return out;
}
