/** Installs the aws_s3 stand-in (test/fixtures/aws-s3-standin.sql) into a test database. */
import { readFile } from "node:fs/promises";
import pg from "pg";
import type { PgCluster } from "./pg-cluster.js";
import { S3RVER_CREDENTIALS } from "./s3.js";

const SQL = new URL("../fixtures/aws-s3-standin.sql", import.meta.url);

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
    await client.query(await readFile(SQL, "utf8"));
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
