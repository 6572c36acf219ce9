/**
 * Connection specs (SPEC §3), with lava's field names so existing lava JSON
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

/** AWS credentials for S3 access by the database (`s3_conn_id`). */
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
  external_id: text("an external id").optional(),
  duration: duration(12 * 3600_000, "12h").optional(),
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
