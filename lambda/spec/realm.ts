/** The realm file's top level (docs/realm-files.md §2). Spec objects are parsed one by one by `validate.ts`. */
import { z } from "zod";
import { actionFields } from "./actions";
import type { ConnectionSpec } from "./connection";
import { bool, bucketName, duration, intIn, s3Location, text, textList } from "./fields";
import type { JobSpec } from "./job";
import { timeZoneField } from "./schedule";
import type { TriggerSpec } from "./trigger";
import { parseDuration } from "./units";

export const REALM_NAME = /^[a-z0-9][a-z0-9-]*$/;

const region = () =>
  z
    .string({ error: "expected an AWS region like us-east-1" })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "expected an AWS region like us-east-1" });

/** A non-empty list of AWS resource ids such as `subnet-0abc`. */
const awsIdList = (prefix: string, what: string) =>
  z
    .array(
      z.string().regex(new RegExp(`^${prefix}-[0-9a-f]+$`), {
        error: `expected ${what}s like ${prefix}-0abc`,
      }),
      { error: `expected a list of ${what}s` },
    )
    .min(1, { error: `expected at least one ${what}` });

/** Top-level keys; `connections`, `jobs` and `s3triggers` are checked element by element. */
export const realmTopSchema = z.strictObject({
  realm: z
    .string({ error: "expected a realm name of lower-case letters, digits and -" })
    .regex(REALM_NAME, { error: "expected a realm name of lower-case letters, digits and -" })
    .max(40, { error: "expected a realm name of at most 40 characters" }),
  region: region().optional(),
  account: z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .pipe(z.string().regex(/^\d{12}$/, { error: "expected a 12-digit account id (quote it)" }))
    .optional(),
  s3_payloads: s3Location().optional(),
  // Realm-level actions: a job's own list replaces these for that event (docs/actions.md §1).
  ...actionFields,
  s3_temp: s3Location().optional(),
  // Jobs' schedules run in it, as lava's in its dispatcher's CRON_TZ (docs/schedules.md §4).
  timezone: timeZoneField().optional(),
  s3_sources: z
    .array(
      z.strictObject({
        bucket: bucketName(),
        prefix: z.string({ error: "expected a key prefix" }).optional(),
        region: region().optional(),
        kms_key_arn: z
          .string({ error: "expected a KMS key ARN" })
          .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-)?[0-9a-f-]+$/, {
            error: "expected a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/…",
          })
          .optional(),
      }),
      { error: "expected a list of {bucket, prefix?, region?, kms_key_arn?}" },
    )
    .optional(),
  vpc: z
    .strictObject(
      {
        vpc_id: z.string().regex(/^vpc-[0-9a-f]+$/, { error: "expected a VPC id like vpc-0abc" }),
        subnet_ids: awsIdList("subnet", "subnet id"),
        security_group_ids: awsIdList("sg", "security group id"),
        route_table_ids: awsIdList("rtb", "route table id").optional(),
        create_endpoints: bool().optional(),
      },
      {
        error:
          "expected {vpc_id, subnet_ids, security_group_ids, route_table_ids?, create_endpoints?}",
      },
    )
    .optional(),
  aurora_clusters: z
    .array(
      z.strictObject({
        cluster_identifier: text("a DB cluster identifier"),
        cluster_resource_id: z
          .string({ error: "expected a cluster resource id like cluster-ABCDEFGHIJKL" })
          .regex(/^cluster-[A-Z0-9]+$/, {
            error: "expected a cluster resource id like cluster-ABCDEFGHIJKL",
          }),
        iam_users: textList("a list of database user names").optional(),
        s3_import: bool().optional(),
      }),
      { error: "expected a list of Aurora clusters" },
    )
    .optional(),
  secrets: textList("a list of secret names or ARNs").optional(),
  ssl_ca_file: text("a path to a PEM CA bundle").optional(),
  runner: z
    .strictObject({
      reserved_concurrency: intIn(1, 1000).optional(),
      memory_mb: intIn(128, 10240).optional(),
      timeout: duration(15 * 60_000, "15m").optional(),
    })
    .optional(),
  exe: z.strictObject({ enabled: bool() }).optional(),
  // lava.run_log in each target database (docs/operations.md §3): rows older than this are deleted.
  run_log: z
    .strictObject(
      {
        retention: duration()
          .refine((v) => (parseDuration(v) ?? 0) >= 3_600_000, {
            error: "expected a duration of at least 1h, like 30d",
          })
          .optional(),
      },
      { error: "expected {retention}" },
    )
    .optional(),
  connections: z.array(z.unknown(), { error: "expected a list of connection specs" }).optional(),
  jobs: z.array(z.unknown(), { error: "expected a list of job specs" }).optional(),
  s3triggers: z.array(z.unknown(), { error: "expected a list of trigger specs" }).optional(),
});

export type RealmTop = z.infer<typeof realmTopSchema>;

/** A validated realm: plain data, serialisable into a function bundle. */
export interface Realm {
  /** Where it came from, for messages (e.g. `realms/dev.yaml`). */
  readonly source: string;
  readonly name: string;
  readonly top: Omit<RealmTop, "connections" | "jobs" | "s3triggers">;
  readonly connections: readonly ConnectionSpec[];
  readonly jobs: readonly JobSpec[];
  readonly triggers: readonly TriggerSpec[];
  /** Non-fatal remarks (lava-only fields ignored). */
  readonly warnings: readonly string[];
}
