/**
 * Connections for exe/pkg payloads (docs/exe-pkg.md §5; docs/connections.md §9): for each label L,
 * `LAVA_CONN_<L>` is an executable that runs psql already connected (a
 * PostgreSQL connection) or the AWS CLI with the connection's credentials (an
 * aws connection), extra arguments passed through. The payload's environment
 * holds no secret and none is written to disk: the connector asks this broker
 * over a private UNIX socket (0600, in a 0700 directory) and gets the
 * program, its arguments and its environment — psql settings and the
 * password (an IAM token freshly signed for each start), or the AWS
 * credentials (session credentials renewed before they expire) — which it
 * gives to its child's environment only.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { awsCliEnv, findAwsCli } from "../../connectors/aws-cli";
import { type RoleAssumer, resolveAwsConnection } from "../../connectors/aws-connection";
import { INHERITED_VARIABLE } from "../../connectors/child-env";
import { findPsql, preparePsql } from "../../connectors/psql";
import {
  findConnection,
  type ResolveDeps,
  resolveDbConnection,
} from "../../connectors/resolve-connection";
import type { ResolvedAws, ResolvedDb } from "../../connectors/types";
import { SpecError } from "../../shared/errors";
import type { Realm } from "../../spec/realm";

/** What the broker serves for one label. */
type Served =
  | { readonly kind: "psql"; readonly conn: ResolvedDb }
  | { readonly kind: "aws"; readonly conn: ResolvedAws; readonly region: string | undefined };

/** What a connector start gets: the program to run, its arguments and its environment's own part. */
interface Launch {
  readonly program: string;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface ConnectionBroker {
  /** `LAVA_CONN_<L>` (connector path) and `LAVA_CONNID_<L>` (conn_id) for the payload. */
  readonly env: Record<string, string>;
  /** Stop answering and remove the socket and connectors. */
  close(): Promise<void>;
}

/**
 * The connector program: ask the broker, run the runner's psql or AWS CLI
 * with what it answers. The child's environment is the allow-listed basics of
 * the payload's (locale, PATH for psql's own \! commands) plus the
 * connection's PG* settings or AWS_* credentials: nothing the payload or the
 * job's `env` sets can redirect it (PGHOSTADDR, PGSSLMODE, AWS_PROFILE,
 * AWS_CONFIG_FILE, a psql or aws earlier on PATH). No secret in it.
 */
function connectorSource(node: string, socket: string, label: string): string {
  return `#!${node}
// lava-aurora connector for connection label ${JSON.stringify(label)}: asks the runner's broker.
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
  const child = spawn(r.program, [...r.argv, ...process.argv.slice(2)], { stdio: "inherit", env });
  child.on("error", (e) => { console.error("lava-aurora connector: " + e.message); process.exit(2); });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
});
client.end(${JSON.stringify(JSON.stringify({ label }))});
`;
}

/** Env-variable form of a label: upper case. */
export function labelVariable(label: string): string {
  return label.toUpperCase();
}

/** The connector start for a psql connection: a fresh password (an IAM token is signed now). */
async function psqlLaunch(conn: ResolvedDb, applicationName: string): Promise<Launch | string> {
  const psql = await findPsql();
  if (!psql) return "psql is not on the runner's PATH";
  const inv = await preparePsql(conn, { applicationName, baseEnv: {}, passwordInEnv: true });
  return { program: psql, argv: inv.argv, env: inv.env };
}

/** The connector start for an aws connection: credentials still valid for a while. */
async function awsLaunch(conn: ResolvedAws, region: string | undefined): Promise<Launch | string> {
  const aws = await findAwsCli();
  if (!aws) return "the AWS CLI (aws) is not on the runner's PATH";
  return { program: aws, argv: [], env: awsCliEnv(await conn.credentials(), region) };
}

/**
 * Resolve the labelled connections (failing before the payload starts: an
 * aws connection's credentials are fetched now) and serve their connector
 * starts until closed.
 */
export async function startConnectionBroker(options: {
  realm: Realm;
  labels: Record<string, string>;
  /** The job's `lv-<realm>-<job_id>`: psql's application name, an assumed role's session name. */
  applicationName: string;
  dir: string;
  resolve: ResolveDeps;
  /** @default stsAssumeRole - STS through the SDK's default chain */
  assumeRole?: RoleAssumer;
}): Promise<ConnectionBroker> {
  const { realm, labels, applicationName, dir } = options;
  const served = new Map<string, Served>();
  for (const [label, connId] of Object.entries(labels)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label))
      throw new SpecError([
        `connections: label ${JSON.stringify(label)}: letters, digits and _ only`,
      ]);
    if (findConnection(realm, connId).type === "aws") {
      const conn = resolveAwsConnection(realm, connId, {
        store: options.resolve.store,
        applicationName,
        ...(options.assumeRole ? { assumeRole: options.assumeRole } : {}),
      });
      await conn.credentials();
      // lava: the connection's region, else the current one (the realm's, else the runner's).
      const region = conn.region ?? realm.top.region ?? process.env.AWS_REGION;
      served.set(label, { kind: "aws", conn, region });
    } else {
      served.set(label, {
        kind: "psql",
        conn: await resolveDbConnection(realm, connId, options.resolve),
      });
    }
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
      const s = served.get(label);
      if (!s) return { error: `no connection labelled ${label}` };
      // Secrets go to the child's env only, fresh for every start.
      const launch =
        s.kind === "aws"
          ? await awsLaunch(s.conn, s.region)
          : await psqlLaunch(s.conn, applicationName);
      return typeof launch === "string" ? { error: launch } : { ...launch };
    } catch (err) {
      // Never a secret: resolution errors name the connection and the cause.
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
