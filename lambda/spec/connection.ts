/**
 * Connection specs (docs/connections.md §1-§3), with lava's field names so existing lava JSON
 * connection specs paste in unchanged.
 */
import { z } from "zod";
import { bool, duration, intOrDigits, objectId, text } from "./fields";

/** Types served by the postgres family; the first two are Aurora (IAM-capable). */
export const AURORA_TYPES = ["postgres-aurora", "postgres-rds"] as const;
export const PLAIN_TYPES = ["postgres", "psql"] as const;
export const POSTGRES_TYPES = [...AURORA_TYPES, ...PLAIN_TYPES] as const;

/** Whether a connection type is Aurora/RDS (IAM tokens, `aws_s3` import). */
export function isAuroraType(type: string): boolean {
  return (AURORA_TYPES as readonly string[]).includes(type);
}

/** A PostgreSQL connection: `postgres-aurora`/`postgres-rds` or `postgres`/`psql`. */
export const postgresConnectionSchema = z.strictObject({
  conn_id: objectId("connection id"),
  type: z.enum(POSTGRES_TYPES),
  enabled: bool(),
  description: z.string({ error: "expected a string" }).optional(),
  owner: z.string({ error: "expected a string" }).optional(),
  host: text("a host name or IP address").optional(),
  // lava writes ports as numbers or digit strings ("5432").
  port: intOrDigits(1, 65535).optional(),
  database: text("a database name").optional(),
  user: text("a user name").optional(),
  password: text("the name of an SSM SecureString parameter").optional(),
  secret_id: text("a Secrets Manager secret name or ARN").optional(),
  ssl: bool().optional(),
  preserve_case: bool().optional(),
  // lava names Python drivers here; both are served by node-postgres.
  subtype: z.enum(["pg8000", "pygresql"], { error: "expected pg8000 or pygresql" }).optional(),
});

/** An IAM managed policy ARN (customer managed, or AWS managed: account `aws`). */
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;
/** AWS's session policy limit: the plaintext of the policy, in characters. */
export const SESSION_POLICY_MAX_CHARS = 2048;
/** Characters AWS allows in session tag keys and values. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARS = "letters, digits, spaces and _ . : / = + - @";

/** `policy_arns`: one ARN or a list of 1-10 (AWS's limit), as lava accepts. */
const policyArns = () => {
  const error = "expected an IAM policy ARN or a list of 1-10 of them";
  const arn = z.string({ error }).regex(POLICY_ARN, { error });
  return z.union([arn, z.array(arn, { error }).min(1, { error }).max(10, { error })], { error });
};

/** `policy`: an inline session policy, a mapping (lava's schema) sent to STS as JSON. */
const sessionPolicy = () => {
  const error = "expected an IAM policy document: a mapping with a Statement";
  return z
    .record(z.string(), z.unknown(), { error })
    .refine(
      (p) =>
        (typeof p.Statement === "object" && p.Statement !== null && !Array.isArray(p.Statement)) ||
        (Array.isArray(p.Statement) && p.Statement.length > 0),
      { error },
    )
    .superRefine((p, ctx) => {
      const chars = JSON.stringify(p).length;
      if (chars > SESSION_POLICY_MAX_CHARS)
        ctx.addIssue({
          code: "custom",
          message: `expected at most ${SESSION_POLICY_MAX_CHARS} characters as JSON (AWS's limit for session policies): ${chars} here`,
          input: p,
        });
    });
};

/** `tags`: session tags, key to string value, within AWS's limits. */
const sessionTags = () =>
  z
    .record(
      z.string(),
      z
        .string({ error: "expected a session tag value: a string" })
        .max(256, { error: `expected a session tag value: at most 256 ${TAG_CHARS}` })
        .regex(TAG_TEXT, { error: `expected a session tag value: at most 256 ${TAG_CHARS}` }),
      { error: "expected a mapping of session tag keys to string values" },
    )
    .superRefine((tags, ctx) => {
      const keys = Object.keys(tags);
      if (keys.length > 50) {
        ctx.addIssue({
          code: "custom",
          message: "expected at most 50 session tags (AWS's limit)",
          input: tags,
        });
      }
      const seen = new Set<string>();
      for (const key of keys) {
        if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
          ctx.addIssue({
            code: "custom",
            message: `expected a session tag key: 1-128 ${TAG_CHARS}`,
            path: [key],
            input: key,
          });
        } else if (seen.has(key.toLowerCase())) {
          ctx.addIssue({
            code: "custom",
            message:
              "expected tag keys that differ in more than case (AWS compares them case-insensitively)",
            path: [key],
            input: key,
          });
        }
        seen.add(key.toLowerCase());
      }
    });

/**
 * AWS credentials: for S3 access by the database (`s3_conn_id`) and for the
 * AWS CLI of exe/pkg payloads (`connections`). lava's fields
 * (doc/user-guide/07-Conn/aws.md): `external_id` names an SSM parameter
 * holding the external ID; `policy_arns`, `policy` and `tags` are AssumeRole's
 * session policies and tags.
 */
export const awsConnectionSchema = z.strictObject({
  conn_id: objectId("connection id"),
  type: z.literal("aws"),
  enabled: bool(),
  description: z.string({ error: "expected a string" }).optional(),
  owner: z.string({ error: "expected a string" }).optional(),
  access_keys: text("the name of an SSM SecureString parameter").optional(),
  role_arn: z
    .string({ error: "expected an IAM role ARN" })
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: "expected an IAM role ARN" })
    .optional(),
  external_id: text("the name of an SSM parameter holding the external ID").optional(),
  duration: duration(12 * 3600_000, "12h").optional(),
  policy_arns: policyArns().optional(),
  policy: sessionPolicy().optional(),
  tags: sessionTags().optional(),
  region: z
    .string({ error: "expected an AWS region" })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "expected an AWS region like us-east-1" })
    .optional(),
});

export const connectionSchema = z.discriminatedUnion(
  "type",
  [postgresConnectionSchema, awsConnectionSchema],
  { error: `expected one of ${[...POSTGRES_TYPES, "aws"].join(", ")}` },
);

export type PostgresConnectionSpec = z.infer<typeof postgresConnectionSchema>;
export type AwsConnectionSpec = z.infer<typeof awsConnectionSchema>;
export type ConnectionSpec = z.infer<typeof connectionSchema>;
