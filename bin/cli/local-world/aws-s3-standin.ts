/** Installs the aws_s3 stand-in (test/fixtures/aws-s3-standin-sql.ts) into a test or demo database. */
import pg from "pg";
import { AWS_S3_STANDIN_SQL } from "./aws-s3-standin-sql.js";
import type { PgCluster } from "./pg-cluster.js";
import { S3RVER_CREDENTIALS } from "./s3.js";

/**
 * Create `aws_commons` and `aws_s3` in `database`, pulling from `s3Endpoint`;
 * the "cluster role" (the no-credentials form) signs with s3rver's own keys.
 */
export async function installAwsS3Standin(
  cluster: PgCluster,
  database: string,
  s3Endpoint: string,
): Promise<void> {
  const client = new pg.Client({
    host: cluster.socketDir,
    port: cluster.port,
    user: "postgres",
    database,
  });
  await client.connect();
  try {
    await client.query(AWS_S3_STANDIN_SQL);
    const set = (name: string, value: string) =>
      client.query(
        `ALTER DATABASE ${client.escapeIdentifier(database)} SET ${name} = ${client.escapeLiteral(value)}`,
      );
    await set("aws_s3.standin_endpoint", s3Endpoint);
    await set("aws_s3.standin_role_key", S3RVER_CREDENTIALS.accessKeyId);
    await set("aws_s3.standin_role_secret", S3RVER_CREDENTIALS.secretAccessKey);
    await client.query("GRANT USAGE ON SCHEMA aws_s3, aws_commons TO PUBLIC");
  } finally {
    await client.end();
  }
}
