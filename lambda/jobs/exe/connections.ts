/**
 * Connections for exe/pkg payloads (SPEC §7, §3.5): for each label L,
 * `LAVA_CONN_<L>` is an executable that runs psql already connected, extra
 * arguments passed through. The payload's environment holds no password and
 * none is written to disk: the connector asks this broker over a private
 * UNIX socket (0600, in a 0700 directory) and gets host, port, user, SSL
 * settings and the password — an IAM token freshly signed for each start —
 * which it gives to its psql child's environment only.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { INHERITED_VARIABLE } from "../../connectors/child-env";
import { findPsql, preparePsql } from "../../connectors/psql";
import { type ResolveDeps, resolveDbConnection } from "../../connectors/resolve-connection";
import type { ResolvedDb } from "../../connectors/types";
import { SpecError } from "../../shared/errors";
import type { Realm } from "../../spec/realm";

export interface ConnectionBroker {
  /** `LAVA_CONN_<L>` (connector path) and `LAVA_CONNID_<L>` (conn_id) for the payload. */
  readonly env: Record<string, string>;
  /** Stop answering and remove the socket and connectors. */
  close(): Promise<void>;
}

/**
 * The connector program: ask the broker, run the runner's psql with what it
 * answers. psql's environment is the allow-listed basics of the payload's
 * (locale, PATH for psql's own \! commands) plus the connection's PG*
 * settings: nothing the payload or the job's `env` sets can redirect it
 * (PGHOSTADDR, PGSSLMODE, PGOPTIONS, PGSERVICE, a psql earlier on PATH). No
 * secret in it.
 */
function connectorSource(node: string, socket: string, label: string): string {
  return `#!${node}
// lava-aurora psql connector for connection label ${JSON.stringify(label)}: asks the runner's broker.
const net = require("node:net");
const { spawn } = require("node:child_process");
const INHERITED = new RegExp(${JSON.stringify(INHERITED_VARIABLE.source)});
const client = net.connect(${JSON.stringify(socket)});
let answer = "";
client.on("data", (d) => { answer += d; });
client.on("error", (e) => { console.error("lava-aurora connector: " + e.message); process.exit(2); });
client.on("end", () => {
  const r = JSON.parse(answer);
  if (r.error) { console.error("lava-aurora connector: " + r.error); process.exit(2); }
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (INHERITED.test(k)) env[k] = v;
  Object.assign(env, r.env);
  const psql = spawn(r.psql, [...r.argv, ...process.argv.slice(2)], { stdio: "inherit", env });
  psql.on("error", (e) => { console.error("lava-aurora connector: " + e.message); process.exit(2); });
  psql.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
});
client.end(${JSON.stringify(JSON.stringify({ label }))});
`;
}

/** Env-variable form of a label: upper case. */
export function labelVariable(label: string): string {
  return label.toUpperCase();
}

/**
 * Resolve the labelled connections (failing before the payload starts) and
 * serve psql settings to the connectors until closed.
 */
export async function startConnectionBroker(options: {
  realm: Realm;
  labels: Record<string, string>;
  applicationName: string;
  dir: string;
  resolve: ResolveDeps;
}): Promise<ConnectionBroker> {
  const { realm, labels, applicationName, dir } = options;
  const resolved = new Map<string, ResolvedDb>();
  for (const [label, connId] of Object.entries(labels)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label))
      throw new SpecError([
        `connections: label ${JSON.stringify(label)}: letters, digits and _ only`,
      ]);
    resolved.set(label, await resolveDbConnection(realm, connId, options.resolve));
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const socket = join(dir, "broker.sock");
  // Half-open: the connector ends its request, then reads the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (conn) => {
    let request = "";
    conn.on("data", (d) => {
      request += d;
    });
    conn.on("end", () => {
      void answer(request).then((reply) => conn.end(JSON.stringify(reply)));
    });
    conn.on("error", () => undefined);
  });
  const answer = async (request: string): Promise<Record<string, unknown>> => {
    try {
      const label = String((JSON.parse(request) as { label?: unknown }).label);
      const conn = resolved.get(label);
      if (!conn) return { error: `no connection labelled ${label}` };
      // Every psql start gets a fresh password (an IAM token is signed now), in its own env only.
      const psql = await findPsql();
      if (!psql) return { error: "psql is not on the runner's PATH" };
      const inv = await preparePsql(conn, { applicationName, baseEnv: {}, passwordInEnv: true });
      return { psql, argv: inv.argv, env: inv.env };
    } catch (err) {
      // Never the password: resolution errors name the connection and the cause.
      return { error: (err as Error).message };
    }
  };
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(socket, () => ok());
  });
  await chmod(socket, 0o600);
  const env: Record<string, string> = {};
  for (const [label, connId] of Object.entries(labels)) {
    const path = join(dir, `conn-${label}`);
    await writeFile(path, connectorSource(process.execPath, socket, label), { mode: 0o700 });
    env[`LAVA_CONN_${labelVariable(label)}`] = path;
    env[`LAVA_CONNID_${labelVariable(label)}`] = connId;
  }
  return {
    env,
    close: async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
