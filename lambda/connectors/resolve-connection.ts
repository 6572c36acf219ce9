/**
 * Connection resolution, in the order of docs/connections.md §4: spec fields → SSM SecureString
 * password → Secrets Manager fill-ins → IAM token → checks. Nothing secret is
 * put in an error message.
 */

import { ConnectionConfigError } from "../shared/errors";
import type { ConnectionSpec, PostgresConnectionSpec } from "../spec/connection";
import { isAuroraType } from "../spec/connection";
import type { Realm } from "../spec/realm";
import { realmPrefix, secretAllowed } from "../spec/validate";
import { signingRegion, type TokenSigner } from "./iam-token";
import type { SecretStore } from "./secret-store";
import { caBundleFile } from "./tls";
import type { ResolvedDb } from "./types";

/** Injected services, so tests and the CLI use the same code with other endpoints. */
export interface ResolveDeps {
  readonly store: SecretStore;
  readonly signToken: TokenSigner;
  /** Environment for NODE_EXTRA_CA_CERTS and the signing region; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** lava's mapping of RDS secret fields onto connection fields (docs/connections.md §4 step 3). */
export const SECRET_FIELD_MAP = {
  username: "user",
  password: "password",
  host: "host",
  port: "port",
  dbname: "database",
  dbClusterIdentifier: "description",
} as const;

interface Fields {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  description?: string;
}

/** Find an enabled connection of the realm, or fail naming it. */
export function findConnection(realm: Realm, connId: string): ConnectionSpec {
  const spec = realm.connections.find((c) => c.conn_id === connId);
  if (!spec)
    throw new ConnectionConfigError(`connection ${connId}: not defined in realm ${realm.name}`);
  if (!spec.enabled)
    throw new ConnectionConfigError(`connection ${connId}: disabled (enabled: false)`);
  return spec;
}

function parsePort(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535
    ? (n as number)
    : undefined;
}

/**
 * Apply a secret's fields to those the spec lacks. Returns the secret's
 * password when the connection has none yet.
 */
function fillFromSecret(
  connId: string,
  secretId: string,
  raw: string,
  fields: Fields,
  needPassword: boolean,
): string | undefined {
  let secret: unknown;
  try {
    secret = JSON.parse(raw);
  } catch {
    // The parse error would quote the secret: leave it out.
    throw new ConnectionConfigError(
      `connection ${connId}: secret ${secretId} is not a JSON object`,
    );
  }
  if (typeof secret !== "object" || secret === null || Array.isArray(secret)) {
    throw new ConnectionConfigError(
      `connection ${connId}: secret ${secretId} is not a JSON object`,
    );
  }
  const s = secret as Record<string, unknown>;
  const str = (k: string) =>
    typeof s[k] === "string" && s[k] !== "" ? (s[k] as string) : undefined;
  for (const [from, to] of Object.entries(SECRET_FIELD_MAP)) {
    if (to === "password" || to === "port" || fields[to] !== undefined) continue;
    fields[to] = str(from);
  }
  if (fields.port === undefined && s.port !== undefined) {
    fields.port = parsePort(s.port);
    if (fields.port === undefined) {
      throw new ConnectionConfigError(
        `connection ${connId}: secret ${secretId}: port: expected an integer 1-65535`,
      );
    }
  }
  return needPassword ? str("password") : undefined;
}

async function resolvePostgres(
  realm: Realm,
  spec: PostgresConnectionSpec,
  deps: ResolveDeps,
): Promise<ResolvedDb> {
  const id = spec.conn_id;
  const prefix = realmPrefix(realm.name);
  const fields: Fields = {
    host: spec.host,
    port: spec.port,
    database: spec.database,
    user: spec.user,
    description: spec.description,
  };
  let password: string | undefined;

  if (spec.password !== undefined) {
    // Refused before any AWS call: the realm may only read its own parameters.
    if (!spec.password.startsWith(prefix)) {
      throw new ConnectionConfigError(
        `connection ${id}: password: SSM parameter ${spec.password} is outside ${prefix}`,
      );
    }
    password = await deps.store.getParameter(spec.password);
  }
  if (spec.secret_id !== undefined) {
    if (!secretAllowed(realm.name, realm.top.secrets ?? [], spec.secret_id)) {
      throw new ConnectionConfigError(
        `connection ${id}: secret_id: ${spec.secret_id} is neither under ${prefix} nor listed in the realm's secrets`,
      );
    }
    const raw = await deps.store.getSecret(spec.secret_id);
    const fromSecret = fillFromSecret(id, spec.secret_id, raw, fields, password === undefined);
    password ??= fromSecret;
  }

  let auth: ResolvedDb["auth"] = "password";
  let ssl = spec.ssl ?? false;
  const aurora = isAuroraType(spec.type);
  if (password === undefined && aurora) {
    if (spec.ssl === false) {
      throw new ConnectionConfigError(
        `connection ${id}: ssl: false, but without a password this connection uses an IAM auth token, and IAM tokens require SSL`,
      );
    }
    auth = "iam";
    ssl = true;
  }

  const missing: string[] = [];
  if (!fields.user) missing.push("user");
  if (auth === "password" && password === undefined) missing.push("password");
  if (!fields.host) missing.push("host");
  if (fields.port === undefined) missing.push("port");
  if (!fields.database) missing.push("database");
  if (missing.length > 0) {
    const from = spec.secret_id === undefined ? "the spec" : `the spec or secret ${spec.secret_id}`;
    throw new ConnectionConfigError(
      `connection ${id}: missing ${missing.join(", ")} (not in ${from})`,
    );
  }
  const { host, port, database, user } = fields as Required<
    Pick<Fields, "host" | "port" | "database" | "user">
  >;

  let getPassword: () => Promise<string>;
  if (auth === "iam") {
    const region = signingRegion(host, realm.top.region, deps.env);
    if (!region) {
      throw new ConnectionConfigError(
        `connection ${id}: cannot sign an IAM token: no region (set the realm's region or AWS_REGION)`,
      );
    }
    getPassword = () => deps.signToken({ host, port, user, region });
  } else {
    const value = password as string;
    getPassword = async () => value;
  }

  return {
    connId: id,
    type: spec.type,
    aurora,
    host,
    port,
    database,
    user,
    description: fields.description,
    ssl,
    caFile: ssl ? caBundleFile(realm.top.ssl_ca_file, deps.env ?? process.env) : undefined,
    preserveCase: spec.preserve_case ?? false,
    auth,
    password: getPassword,
  };
}

/** Resolve a PostgreSQL-family connection of the realm, ready to connect. */
export async function resolveDbConnection(
  realm: Realm,
  connId: string,
  deps: ResolveDeps,
): Promise<ResolvedDb> {
  const spec = findConnection(realm, connId);
  if (spec.type === "aws") {
    throw new ConnectionConfigError(
      `connection ${connId}: is an aws connection, expected a PostgreSQL one`,
    );
  }
  return resolvePostgres(realm, spec, deps);
}
