/**
 * Live pg sessions from resolved connections: verified TLS when `ssl`, the
 * password as an async function (a fresh IAM token per connection), and
 * `application_name` set (docs/connections.md §8).
 */
import type { Client, ClientConfig } from "pg";
import { DatabaseConnectError, isRetryableSqlState, isTransient } from "../shared/errors";
import { tlsOptions } from "./tls";
import type { ResolvedDb } from "./types";

/** node-postgres client options for a resolved connection. Never log this object. */
export function pgClientConfig(conn: ResolvedDb, applicationName: string): ClientConfig {
  return {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    password: conn.password,
    ssl: conn.ssl ? tlsOptions(conn.caFile) : false,
    application_name: applicationName,
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  };
}

/** Where a connection goes, for messages: `host:port/database as user`. */
export function describeTarget(conn: ResolvedDb): string {
  return `${conn.host}:${conn.port}/${conn.database} as ${conn.user}`;
}

/** Connect a new pg client, wrapping failures in `DatabaseConnectError` (cause kept). */
export async function connectPg(conn: ResolvedDb, applicationName: string): Promise<Client> {
  const { default: pg } = await import("pg");
  const client = new pg.Client(pgClientConfig(conn, applicationName));
  // A lost connection also rejects the pending query, which is where callers
  // see it; without a listener the 'error' event would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    const code = (err as { code?: unknown }).code;
    const sqlstate = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    const retryable = isTransient(err) || isRetryableSqlState(sqlstate);
    throw new DatabaseConnectError(
      `connection ${conn.connId}: cannot connect to ${describeTarget(conn)}${conn.ssl ? " (TLS verified)" : ""}: ${(err as Error).message}`,
      { cause: err, retryable, ...(sqlstate ? { code: sqlstate } : {}) },
    );
  }
  return client;
}
