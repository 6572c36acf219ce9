import { fstatSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import {
  fitsPgpass,
  PGPASS_MAX_PASSWORD,
  PSQL_OPTIONS,
  pgpassEscape,
  preparePsql,
} from "../../../lambda/connectors/psql";
import type { ResolvedDb } from "../../../lambda/connectors/types";

const resolved = (password: string, extra: Partial<ResolvedDb> = {}): ResolvedDb => ({
  connId: "pg-main",
  type: "postgres",
  aurora: false,
  host: "db.example.com",
  port: 5433,
  database: "app",
  user: "loader",
  description: undefined,
  ssl: true,
  caFile: "/etc/ssl/ca.pem",
  preserveCase: false,
  auth: "password",
  password: async () => password,
  ...extra,
});

describe("pgpassEscape", () => {
  it("escapes backslash and colon", () => {
    expect(pgpassEscape("a:b\\c")).toBe("a\\:b\\\\c");
  });
});

describe("preparePsql", () => {
  it("runs psql with lava's options, settings in PG* variables and nothing secret in argv", async () => {
    // Prepare
    const password = "pa:ss\\word";
    // Act
    const inv = await preparePsql(resolved(password), {
      applicationName: "lv-dev-psql-pg-main",
      extraArgs: ["-c", "select 1"],
      baseEnv: {
        PATH: "/usr/bin",
        PGPASSWORD: "inherited",
        PGHOST: "elsewhere",
        PGSSLMODE: "disable",
      },
    });
    try {
      // Assess
      expect(inv.argv).toEqual([...PSQL_OPTIONS, "-c", "select 1"]);
      expect(PSQL_OPTIONS).toEqual([
        "--no-psqlrc",
        "--quiet",
        "--set",
        "ON_ERROR_STOP=on",
        "--pset",
        "footer=off",
      ]);
      expect(inv.argv.join(" ")).not.toContain("pa:ss");
      expect(inv.env).toMatchObject({
        PATH: "/usr/bin",
        PGHOST: "db.example.com",
        PGPORT: "5433",
        PGDATABASE: "app",
        PGUSER: "loader",
        PGAPPNAME: "lv-dev-psql-pg-main",
        PGSSLMODE: "verify-full",
        PGSSLROOTCERT: "/etc/ssl/ca.pem",
      });
      expect(inv.env.PGPASSWORD).toBeUndefined();
      expect(inv.passwordVia).toBe("pgpass");
      // Linux: psql inherits the descriptor of an already unlinked 0600 file as fd 3.
      expect(inv.env.PGPASSFILE).toBe("/dev/fd/3");
      expect(inv.fds).toHaveLength(1);
      const fd = inv.fds[0] as number;
      expect(await readFile(`/proc/self/fd/${fd}`, "utf8")).toBe(
        "db.example.com:5433:*:loader:pa\\:ss\\\\word\n",
      );
      const st = fstatSync(fd);
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.nlink).toBe(0);
    } finally {
      await inv.cleanup();
    }
    expect(() => fstatSync(inv.fds[0] as number)).toThrow(/EBADF/);
    await inv.cleanup();
  });

  it("keeps the pgpass as a 0600 file in a private directory for the session where descriptors cannot be reopened", async () => {
    const inv = await preparePsql(resolved("pw"), {
      applicationName: "a",
      baseEnv: {},
      pgpass: "path",
    });
    const file = inv.env.PGPASSFILE as string;
    try {
      expect(inv.fds).toEqual([]);
      expect(file).toMatch(new RegExp(`/lava-psql-${process.pid}-[A-Za-z0-9]{6}/pgpass$`));
      expect(await readFile(file, "utf8")).toBe("db.example.com:5433:*:loader:pw\n");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(dirname(file))).mode & 0o777).toBe(0o700);
    } finally {
      await inv.cleanup();
    }
    await expect(stat(dirname(file))).rejects.toThrow();
  });

  it("puts long passwords and IAM tokens in PGPASSWORD of the psql process only, and writes no file", async () => {
    const long = "x".repeat(PGPASS_MAX_PASSWORD + 1);
    const a = await preparePsql(resolved(long), { applicationName: "a", baseEnv: {} });
    expect(a.passwordVia).toBe("env");
    expect(a.env.PGPASSWORD).toBe(long);
    expect(a.env.PGPASSFILE).toBeUndefined();
    const token = await preparePsql(resolved("short-token", { auth: "iam" }), {
      applicationName: "a",
      baseEnv: {},
    });
    expect(token.passwordVia).toBe("env");
    expect(token.env.PGPASSWORD).toBe("short-token");
    expect(process.env.PGPASSWORD).toBeUndefined();
  });

  it("disables TLS for connections without ssl rather than trusting an unverified one", async () => {
    const inv = await preparePsql(resolved("pw", { ssl: false, caFile: undefined }), {
      applicationName: "a",
      baseEnv: {},
    });
    try {
      expect(inv.env.PGSSLMODE).toBe("disable");
      expect(inv.env.PGSSLROOTCERT).toBeUndefined();
    } finally {
      await inv.cleanup();
    }
  });

  it("refuses SSL without a CA bundle to verify against", async () => {
    await expect(
      preparePsql(resolved("pw", { caFile: undefined }), { applicationName: "a", baseEnv: {} }),
    ).rejects.toThrow("connection pg-main: psql needs a CA bundle to verify TLS");
  });

  it("keeps passwords with newlines out of pgpass files", () => {
    expect(fitsPgpass("a\nb")).toBe(false);
    expect(fitsPgpass("a:b")).toBe(true);
  });
});

describe("preparePsql's environment", () => {
  it("inherits no PG* variable at all: only the resolved connection's settings reach psql", async () => {
    // Prepare: everything libpq reads that could redirect or weaken the connection, and more.
    const inherited = {
      PGHOSTADDR: "203.0.113.9",
      PGOPTIONS: "-c search_path=evil",
      PGSSLMODE: "disable",
      PGPASSFILE: "/tmp/other-pgpass",
      PGSERVICE: "evil",
      PGSERVICEFILE: "/tmp/evil-services",
      PGGSSENCMODE: "require",
      PGTZ: "Pacific/Chatham",
      PGCLIENTENCODING: "LATIN1",
      PGFUTURE_SETTING: "x",
    };
    // Act
    const inv = await preparePsql(resolved("x".repeat(PGPASS_MAX_PASSWORD + 1)), {
      applicationName: "a",
      baseEnv: { PATH: "/usr/bin", TERM: "xterm", ...inherited },
    });
    // Assess
    expect(
      Object.keys(inv.env)
        .filter((k) => k.startsWith("PG"))
        .sort(),
    ).toEqual([
      "PGAPPNAME",
      "PGDATABASE",
      "PGGSSENCMODE",
      "PGHOST",
      "PGPASSWORD",
      "PGPORT",
      "PGSSLMODE",
      "PGSSLROOTCERT",
      "PGUSER",
    ]);
    expect(inv.env).toMatchObject({
      PATH: "/usr/bin",
      TERM: "xterm",
      PGSSLMODE: "verify-full",
      PGGSSENCMODE: "disable",
    });
  });
});

describe("preparePsql with passwordInEnv", () => {
  it("puts even a short password in PGPASSWORD and writes no file", async () => {
    const inv = await preparePsql(resolved("short:pw"), {
      applicationName: "a",
      baseEnv: {},
      passwordInEnv: true,
    });
    expect(inv.passwordVia).toBe("env");
    expect(inv.env.PGPASSWORD).toBe("short:pw");
    expect(inv.env.PGPASSFILE).toBeUndefined();
  });
});
