/**
 * Handing `s3_conn_id` credentials to `aws_s3.table_import_from_s3` without them
 * appearing in any statement text or bind parameter, which servers log
 * (`log_statement`, `log_min_duration_statement`, common on RDS parameter groups)
 * and `pg_stat_activity` shows: they travel as COPY data (never logged) into a
 * session temporary table that the import call reads, and are deleted right after.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ClientBase } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { AwsCredentials } from "../../connectors/types";

const TABLE = "pg_temp.lava_s3_credentials";

/** The 9-argument import reading its last three arguments from the credentials table. */
export const IMPORT_WITH_STORED_KEYS = `SELECT aws_s3.table_import_from_s3($1, $2, $3, $4, $5, $6, c.access_key, c.secret_key, c.session_token) AS result FROM ${TABLE} c`;

/** One COPY text-format field: backslash, tab, newline and carriage return escaped. */
export function copyTextField(value: string): string {
  return value.replace(
    /[\\\t\n\r]/g,
    (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c] as string,
  );
}

/**
 * Put the credentials in the session's temporary table (dropped at commit or
 * rollback), replacing any earlier ones; call {@link forgetCredentials} after the import.
 */
export async function storeCredentials(client: ClientBase, creds: AwsCredentials): Promise<void> {
  await client.query(
    "CREATE TEMP TABLE IF NOT EXISTS lava_s3_credentials (access_key text NOT NULL, secret_key text NOT NULL, session_token text NOT NULL) ON COMMIT DROP",
  );
  await client.query(`TRUNCATE ${TABLE}`);
  const line = [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken ?? ""]
    .map(copyTextField)
    .join("\t");
  await pipeline(Readable.from([`${line}\n`]), client.query(copyFrom(`COPY ${TABLE} FROM STDIN`)));
}

/** Remove the credentials from the session as soon as the import has them. */
export async function forgetCredentials(client: ClientBase): Promise<void> {
  await client.query(`DELETE FROM ${TABLE}`);
}
