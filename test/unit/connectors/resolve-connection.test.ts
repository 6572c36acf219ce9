import { describe, expect, it, vi } from "vitest";
import { signingRegion, type TokenRequest } from "../../../lambda/connectors/iam-token";
import {
  resolveDbConnection,
  SECRET_FIELD_MAP,
} from "../../../lambda/connectors/resolve-connection";
import type { SecretStore } from "../../../lambda/connectors/secret-store";
import { ConnectionConfigError } from "../../../lambda/shared/errors";
import { realmOf } from "../../support/realm-fixture";

/** A store that records every read, in order. */
function fakeStore(params: Record<string, string> = {}, secrets: Record<string, string> = {}) {
  const reads: string[] = [];
  const store: SecretStore = {
    getParameter: vi.fn(async (name: string) => {
      reads.push(`ssm:${name}`);
      const v = params[name];
      if (v === undefined) throw new Error(`no ${name}`);
      return v;
    }),
    getSecret: vi.fn(async (id: string) => {
      reads.push(`secret:${id}`);
      const v = secrets[id];
      if (v === undefined) throw new Error(`no ${id}`);
      return v;
    }),
  };
  return { store, reads };
}

function fakeSigner() {
  const requests: TokenRequest[] = [];
  let n = 0;
  const signToken = vi.fn(async (r: TokenRequest) => {
    requests.push(r);
    n += 1;
    return `token-${n}`;
  });
  return { signToken, requests };
}

const conn = (extra: Record<string, unknown>) => ({
  conn_id: "db",
  type: "postgres-aurora",
  enabled: true,
  host: "c1.cluster-abc.eu-west-2.rds.amazonaws.com",
  port: 5432,
  database: "app",
  user: "loader",
  ...extra,
});

describe("resolveDbConnection", () => {
  it("reads an SSM password with the name under /lava/<realm>/ and keeps it out of properties", async () => {
    // Prepare
    const realm = realmOf({ connections: [conn({ password: "/lava/dev/db" })] });
    const { store } = fakeStore({ "/lava/dev/db": "s3cr:t\\pw" });
    // Act
    const resolved = await resolveDbConnection(realm, "db", {
      store,
      signToken: fakeSigner().signToken,
    });
    // Assess
    expect(resolved.auth).toBe("password");
    expect(await resolved.password()).toBe("s3cr:t\\pw");
    expect(JSON.stringify(resolved)).not.toContain("s3cr");
    expect(resolved).toMatchObject({
      host: conn({}).host,
      port: 5432,
      database: "app",
      user: "loader",
      ssl: false,
    });
  });

  it("fills only missing fields from a secret, with lava's field mapping", async () => {
    const realm = realmOf({
      connections: [
        {
          conn_id: "db",
          type: "postgres",
          enabled: true,
          database: "mine",
          secret_id: "/lava/dev/s",
        },
      ],
    });
    const secret = {
      username: "u1",
      password: "pw1",
      host: "h1.example.com",
      port: "6432",
      dbname: "theirs",
      dbClusterIdentifier: "cluster-1",
      engine: "postgres",
    };
    const { store } = fakeStore({}, { "/lava/dev/s": JSON.stringify(secret) });
    const resolved = await resolveDbConnection(realm, "db", {
      store,
      signToken: fakeSigner().signToken,
    });
    expect(resolved).toMatchObject({
      user: "u1",
      host: "h1.example.com",
      port: 6432,
      database: "mine",
      description: "cluster-1",
    });
    expect(await resolved.password()).toBe("pw1");
    expect(SECRET_FIELD_MAP).toEqual({
      username: "user",
      password: "password",
      host: "host",
      port: "port",
      dbname: "database",
      dbClusterIdentifier: "description",
    });
  });

  it("prefers the SSM password to the secret's and still fills other fields from the secret", async () => {
    const realm = realmOf({
      connections: [
        {
          conn_id: "db",
          type: "postgres",
          enabled: true,
          password: "/lava/dev/p",
          secret_id: "/lava/dev/s",
        },
      ],
    });
    const { store, reads } = fakeStore(
      { "/lava/dev/p": "from-ssm" },
      {
        "/lava/dev/s": JSON.stringify({
          username: "u",
          password: "from-secret",
          host: "h",
          port: 5432,
          dbname: "d",
        }),
      },
    );
    const resolved = await resolveDbConnection(realm, "db", {
      store,
      signToken: fakeSigner().signToken,
    });
    expect(await resolved.password()).toBe("from-ssm");
    expect(resolved.user).toBe("u");
    expect(reads).toEqual(["ssm:/lava/dev/p", "secret:/lava/dev/s"]);
  });

  it("signs a fresh IAM token per connection when there is no password, forcing SSL", async () => {
    const realm = realmOf({ region: "us-east-1", connections: [conn({})] });
    const { store, reads } = fakeStore();
    const { signToken, requests } = fakeSigner();
    const resolved = await resolveDbConnection(realm, "db", { store, signToken });
    expect(resolved.auth).toBe("iam");
    expect(resolved.ssl).toBe(true);
    expect(await resolved.password()).toBe("token-1");
    expect(await resolved.password()).toBe("token-2");
    // The endpoint's region wins over the realm's: the token is checked by that cluster.
    expect(requests[0]).toEqual({
      host: conn({}).host,
      port: 5432,
      user: "loader",
      region: "eu-west-2",
    });
    expect(reads).toEqual([]);
  });

  it("uses IAM when a secret has no password, and refuses an explicit ssl: false then", async () => {
    const realm = realmOf({ connections: [conn({ ssl: false, secret_id: "/lava/dev/s" })] });
    const { store } = fakeStore({}, { "/lava/dev/s": JSON.stringify({ username: "u" }) });
    await expect(
      resolveDbConnection(realm, "db", { store, signToken: fakeSigner().signToken }),
    ).rejects.toThrow(
      "connection db: ssl: false, but without a password this connection uses an IAM auth token, and IAM tokens require SSL",
    );
  });

  it("does not sign tokens for plain postgres: a missing password is an error", async () => {
    const realm = realmOf({ connections: [conn({ type: "postgres" })] });
    const { signToken } = fakeSigner();
    await expect(
      resolveDbConnection(realm, "db", { store: fakeStore().store, signToken }),
    ).rejects.toThrow("connection db: missing password (not in the spec)");
    expect(signToken).not.toHaveBeenCalled();
  });

  it("names every missing field", async () => {
    const realm = realmOf({
      connections: [{ conn_id: "db", type: "postgres", enabled: true, secret_id: "/lava/dev/s" }],
    });
    const { store } = fakeStore({}, { "/lava/dev/s": JSON.stringify({ password: "x" }) });
    await expect(
      resolveDbConnection(realm, "db", { store, signToken: fakeSigner().signToken }),
    ).rejects.toThrow(
      "connection db: missing user, host, port, database (not in the spec or secret /lava/dev/s)",
    );
  });

  it("refuses a disabled or unknown connection before any AWS call", async () => {
    const realm = realmOf({ connections: [conn({ enabled: false, password: "/lava/dev/db" })] });
    const { store, reads } = fakeStore();
    const deps = { store, signToken: fakeSigner().signToken };
    await expect(resolveDbConnection(realm, "db", deps)).rejects.toThrow(
      "connection db: disabled (enabled: false)",
    );
    await expect(resolveDbConnection(realm, "nope", deps)).rejects.toThrow(
      "connection nope: not defined in realm dev",
    );
    expect(reads).toEqual([]);
  });

  it("refuses SSM names and secrets outside the realm before any AWS call", async () => {
    // A realm built without the validator (as a bundle could be) still cannot escape its prefix.
    const base = realmOf();
    const realm = { ...base, connections: [conn({ password: "/lava/prod/db" }) as never] };
    const { store, reads } = fakeStore();
    await expect(
      resolveDbConnection(realm, "db", { store, signToken: fakeSigner().signToken }),
    ).rejects.toThrow("connection db: password: SSM parameter /lava/prod/db is outside /lava/dev/");
    const realm2 = { ...base, connections: [conn({ secret_id: "/lava/prod/s" }) as never] };
    await expect(
      resolveDbConnection(realm2, "db", { store, signToken: fakeSigner().signToken }),
    ).rejects.toThrow(ConnectionConfigError);
    expect(reads).toEqual([]);
  });

  it("reports a secret that is not JSON without quoting it", async () => {
    const realm = realmOf({ connections: [conn({ secret_id: "/lava/dev/s" })] });
    const { store } = fakeStore({}, { "/lava/dev/s": "plain-password-oops" });
    const err = await resolveDbConnection(realm, "db", {
      store,
      signToken: fakeSigner().signToken,
    }).catch((e) => e);
    expect(err.message).toBe("connection db: secret /lava/dev/s is not a JSON object");
    expect(String(err.stack)).not.toContain("plain-password-oops");
  });

  it("refuses a secret port that is not a port", async () => {
    const realm = realmOf({ connections: [conn({ port: undefined, secret_id: "/lava/dev/s" })] });
    const { store } = fakeStore({}, { "/lava/dev/s": JSON.stringify({ port: "http" }) });
    await expect(
      resolveDbConnection(realm, "db", { store, signToken: fakeSigner().signToken }),
    ).rejects.toThrow("connection db: secret /lava/dev/s: port: expected an integer 1-65535");
  });

  it("uses the realm's ssl_ca_file, else NODE_EXTRA_CA_CERTS, for SSL connections", async () => {
    const deps = { store: fakeStore().store, signToken: fakeSigner().signToken };
    const withCa = realmOf({ ssl_ca_file: "/etc/ca.pem", connections: [conn({})] });
    expect((await resolveDbConnection(withCa, "db", deps)).caFile).toBe("/etc/ca.pem");
    const noCa = realmOf({ connections: [conn({})] });
    const env = { NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" };
    expect((await resolveDbConnection(noCa, "db", { ...deps, env })).caFile).toBe(
      "/var/runtime/ca-cert.pem",
    );
  });
});

describe("signingRegion", () => {
  it("prefers an RDS endpoint's region, then the realm's, then the environment's", () => {
    expect(signingRegion("a.cluster-x.ap-southeast-2.rds.amazonaws.com", "us-east-1", {})).toBe(
      "ap-southeast-2",
    );
    expect(signingRegion("10.0.0.5", "us-east-1", { AWS_REGION: "eu-west-1" })).toBe("us-east-1");
    expect(signingRegion("db.internal", undefined, { AWS_REGION: "eu-west-1" })).toBe("eu-west-1");
    expect(signingRegion("db.internal", undefined, { AWS_DEFAULT_REGION: "eu-north-1" })).toBe(
      "eu-north-1",
    );
    expect(signingRegion("db.internal", undefined, {})).toBeUndefined();
  });
});
