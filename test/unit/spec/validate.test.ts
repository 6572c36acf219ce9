import { describe, expect, it } from "vitest";
import { SpecError } from "../../../lambda/shared/errors";
import { secretAllowed, secretName, validateRealm } from "../../../lambda/spec/validate";
import { problemsOf, realmDoc, realmOf } from "../../support/realm-fixture";

const pg = (extra: Record<string, unknown> = {}) => ({
  conn_id: "pg-main",
  type: "postgres",
  enabled: true,
  host: "db.example.com",
  port: 5432,
  database: "app",
  user: "loader",
  password: "/lava/dev/pg-main",
  ...extra,
});

const aurora = (extra: Record<string, unknown> = {}) => ({
  conn_id: "au",
  type: "postgres-aurora",
  enabled: true,
  host: "c.cluster-x.us-east-1.rds.amazonaws.com",
  port: 5432,
  database: "app",
  user: "loader",
  ...extra,
});

const job = (extra: Record<string, unknown> = {}) => ({
  job_id: "sales/load",
  type: "db_from_s3",
  enabled: true,
  parameters: { db_conn_id: "pg-main", mode: "append" },
  ...extra,
});

describe("validateRealm", () => {
  it("accepts a minimal realm and returns its parts", () => {
    // Prepare
    const doc = realmDoc({ connections: [pg()], jobs: [job()] });
    // Act
    const realm = validateRealm(doc, "realms/dev.yaml");
    // Assess
    expect(realm.name).toBe("dev");
    expect(realm.connections.map((c) => c.conn_id)).toEqual(["pg-main"]);
    expect(realm.jobs.map((j) => j.job_id)).toEqual(["sales/load"]);
    expect(realm.warnings).toEqual([]);
  });

  it("names file, connection and field with the bad value", () => {
    const problems = problemsOf(realmDoc({ connections: [pg({ port: "seventy" })] }));
    expect(problems).toEqual([
      'realms/dev.yaml: connection pg-main: port: expected an integer 1-65535, got "seventy"',
    ]);
  });

  it("reports every problem of a file in one pass, in file order", () => {
    const problems = problemsOf(
      realmDoc({
        region: "nowhere",
        connections: [pg({ port: 0, enabled: "yes" }), aurora({ conn_id: "au", ssl: "no" })],
        jobs: [job({ type: "sqlx" })],
      }),
    );
    expect(problems).toEqual([
      'realms/dev.yaml: region: expected an AWS region like us-east-1, got "nowhere"',
      'realms/dev.yaml: connection pg-main: enabled: expected true or false, got "yes"',
      "realms/dev.yaml: connection pg-main: port: expected an integer 1-65535, got 0",
      'realms/dev.yaml: connection au: ssl: expected true or false, got "no"',
      'realms/dev.yaml: job sales/load: type: expected one of db_from_s3, exe, pkg, sql, sqli, sqlc, sqlv, chain, dag, foreach, dispatch, got "sqlx"',
    ]);
  });

  it("refuses unknown fields but ignores x- and X- fields", () => {
    const problems = problemsOf(
      realmDoc({
        "x-team": "data",
        colour: "blue",
        connections: [pg({ hostname: "h", "X-note": 1 })],
      }),
    );
    expect(problems).toEqual([
      "realms/dev.yaml: colour: unknown field",
      "realms/dev.yaml: connection pg-main: hostname: unknown field",
    ]);
  });

  it("accepts lava-only job fields with a warning", () => {
    const realm = realmOf({
      connections: [pg()],
      jobs: [job({ worker: "core", dispatcher: "Sydney" })],
    });
    expect(realm.warnings).toEqual([
      "realms/dev.yaml: job sales/load: worker: lava field with no meaning here, ignored",
      "realms/dev.yaml: job sales/load: dispatcher: lava field with no meaning here, ignored",
    ]);
  });

  it("warns where a lava value means something different here: enabled omitted, iteration_limit 0", () => {
    const { enabled: _enabled, ...withoutEnabled } = job({ job_id: "sales/quiet" });
    const realm = realmOf({
      connections: [pg()],
      jobs: [withoutEnabled, job({ job_id: "sales/never", iteration_limit: 0 })],
    });
    expect(realm.warnings).toEqual([
      "realms/dev.yaml: job sales/quiet: enabled: not given: lava's default is false, so this job is skipped (disabled)",
      "realms/dev.yaml: job sales/never: iteration_limit: 0: lava never attempts the job (and reports success); here it makes one attempt",
    ]);
  });

  it("reports missing required fields as required", () => {
    const problems = problemsOf(realmDoc({ connections: [{ conn_id: "c", type: "postgres" }] }));
    expect(problems).toEqual([
      "realms/dev.yaml: connection c: enabled: required: expected true or false",
    ]);
  });

  it("names objects without an id by position", () => {
    const problems = problemsOf(
      realmDoc({ connections: [pg(), { type: "postgres", enabled: true }] }),
    );
    expect(problems).toEqual([
      "realms/dev.yaml: connection #2: conn_id: required: expected a connection id",
    ]);
  });

  it("refuses duplicate ids", () => {
    const problems = problemsOf(realmDoc({ connections: [pg(), pg()] }));
    expect(problems).toEqual([
      'realms/dev.yaml: connection pg-main: conn_id: duplicate of connection #1, got "pg-main"',
    ]);
  });

  it("refuses a realm name other than the one asked for", () => {
    expect(problemsOf(realmDoc(), "prod")).toEqual([
      'realms/dev.yaml: realm: expected "prod" (the realm asked for), got "dev"',
    ]);
  });

  it("refuses a document that is not a mapping", () => {
    expect(problemsOf(["a"])).toEqual([
      'realms/dev.yaml: expected a mapping of realm keys, got ["a"]',
    ]);
  });

  it("throws SpecError carrying the problems", () => {
    expect(() => validateRealm(realmDoc({ realm: "Dev!" }), "r.yaml")).toThrow(SpecError);
  });

  describe("top-level keys", () => {
    it.each([
      [
        "realm",
        "Dev_1",
        'realm: expected a realm name of lower-case letters, digits and -, got "Dev_1"',
      ],
      ["account", 12345, 'account: expected a 12-digit account id (quote it), got "12345"'],
      [
        "s3_temp",
        "bucket/x",
        's3_temp: expected an S3 location s3://bucket/prefix, got "bucket/x"',
      ],
      [
        "s3_sources",
        [{ bucket: "b_b" }],
        's3_sources[0].bucket: expected an S3 bucket name, got "b_b"',
      ],
      [
        "vpc",
        { vpc_id: "vpc-0a", subnet_ids: [], security_group_ids: ["sg-1"] },
        "vpc.subnet_ids: expected at least one subnet id, got []",
      ],
      [
        "aurora_clusters",
        [{ cluster_identifier: "c", cluster_resource_id: "db-123" }],
        'aurora_clusters[0].cluster_resource_id: expected a cluster resource id like cluster-ABCDEFGHIJKL, got "db-123"',
      ],
      [
        "runner",
        { timeout: "20m" },
        'runner.timeout: expected a duration like 30s, 5m or 2h (at most 15m), got "20m"',
      ],
      ["runner", { memory_mb: 64 }, "runner.memory_mb: expected an integer 128-10240, got 64"],
      ["exe", { enabled: "yes" }, 'exe.enabled: expected true or false, got "yes"'],
      [
        "vpc",
        {
          vpc_id: "vpc-0a",
          subnet_ids: ["subnet-1"],
          security_group_ids: ["sg-1"],
          create_endpoints: true,
        },
        "vpc.route_table_ids: required with create_endpoints (the S3 gateway endpoint is a route)",
      ],
      [
        "s3_sources",
        [{ bucket: "bkt", kms_key_arn: "alias/x" }],
        's3_sources[0].kms_key_arn: expected a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/…, got "alias/x"',
      ],
      ["secrets", "one", 'secrets: expected a list of secret names or ARNs, got "one"'],
    ])("checks %s", (key, value, message) => {
      expect(problemsOf(realmDoc({ [key]: value }))).toEqual([`realms/dev.yaml: ${message}`]);
    });

    it("accepts a 12-digit account given as a number", () => {
      expect(realmOf({ account: 123456789012 }).top.account).toBe("123456789012");
    });
  });

  describe("connection rules", () => {
    it("refuses a password that is not an SSM name under /lava/<realm>/", () => {
      expect(problemsOf(realmDoc({ connections: [pg({ password: "hunter2" })] }))).toEqual([
        'realms/dev.yaml: connection pg-main: password: expected the name of an SSM parameter under /lava/dev/ (not the password itself), got "hunter2"',
      ]);
    });

    it("refuses a secret_id outside /lava/<realm>/ that the realm does not list", () => {
      expect(
        problemsOf(
          realmDoc({ connections: [pg({ password: undefined, secret_id: "/lava/prod/db" })] }),
        ),
      ).toEqual([
        'realms/dev.yaml: connection pg-main: secret_id: expected a secret under /lava/dev/ or one listed in the realm\'s secrets, got "/lava/prod/db"',
      ]);
    });

    it("accepts a secret listed in the realm's secrets, by name or ARN", () => {
      const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc-AbCdEf";
      const realm = realmOf({
        secrets: [arn],
        connections: [
          aurora({ secret_id: arn }),
          aurora({ conn_id: "au2", secret_id: "rds!cluster-abc" }),
        ],
      });
      expect(realm.connections).toHaveLength(2);
    });

    it("refuses ssl: false on Aurora with neither password nor secret_id", () => {
      expect(problemsOf(realmDoc({ connections: [aurora({ ssl: false })] }))).toEqual([
        "realms/dev.yaml: connection au: ssl: cannot be false here: with neither password nor secret_id this connection authenticates with an IAM token, which requires SSL, got false",
      ]);
    });

    it("allows ssl: false on Aurora with a password, and on plain postgres", () => {
      const realm = realmOf({
        connections: [aurora({ ssl: false, password: "/lava/dev/au" }), pg({ ssl: false })],
      });
      expect(realm.connections).toHaveLength(2);
    });

    it("accepts both lava subtypes and refuses others", () => {
      expect(
        realmOf({
          connections: [pg({ subtype: "pg8000" }), pg({ conn_id: "b", subtype: "pygresql" })],
        }).connections,
      ).toHaveLength(2);
      expect(problemsOf(realmDoc({ connections: [pg({ subtype: "psycopg" })] }))).toEqual([
        'realms/dev.yaml: connection pg-main: subtype: expected pg8000 or pygresql, got "psycopg"',
      ]);
    });

    it("accepts every connection type name", () => {
      const types = ["postgres-aurora", "postgres-rds", "postgres", "psql"];
      const realm = realmOf({ connections: types.map((type) => pg({ conn_id: type, type })) });
      expect(realm.connections.map((c) => c.type)).toEqual(types);
    });

    it("requires exactly one of access_keys or role_arn on aws connections", () => {
      const both = {
        conn_id: "s3",
        type: "aws",
        enabled: true,
        access_keys: "/lava/dev/k",
        role_arn: "arn:aws:iam::123456789012:role/r",
      };
      const none = { conn_id: "s3b", type: "aws", enabled: true };
      expect(problemsOf(realmDoc({ connections: [both, none] }))).toEqual([
        "realms/dev.yaml: connection s3: access_keys: expected exactly one of access_keys or role_arn",
        "realms/dev.yaml: connection s3b: access_keys: expected exactly one of access_keys or role_arn",
      ]);
    });

    it("checks aws connection fields", () => {
      const c = {
        conn_id: "s3",
        type: "aws",
        enabled: true,
        access_keys: "/other/k",
        external_id: "e",
        region: "moon",
      };
      expect(problemsOf(realmDoc({ connections: [c] }))).toEqual([
        'realms/dev.yaml: connection s3: region: expected an AWS region like us-east-1, got "moon"',
        'realms/dev.yaml: connection s3: access_keys: expected the name of an SSM parameter under /lava/dev/, got "/other/k"',
        'realms/dev.yaml: connection s3: external_id: only meaningful with role_arn, got "e"',
      ]);
    });

    it("checks role_arn shape and duration", () => {
      const c = { conn_id: "s3", type: "aws", enabled: true, role_arn: "role/x", duration: "13h" };
      expect(problemsOf(realmDoc({ connections: [c] }))).toEqual([
        'realms/dev.yaml: connection s3: role_arn: expected an IAM role ARN, got "role/x"',
        'realms/dev.yaml: connection s3: duration: expected a duration like 30s, 5m or 2h (at most 12h), got "13h"',
      ]);
    });
  });

  describe("jobs", () => {
    it("requires db_conn_id to name a PostgreSQL connection and s3_conn_id an aws one", () => {
      const keys = { conn_id: "keys", type: "aws", enabled: true, access_keys: "/lava/dev/k" };
      const problems = problemsOf(
        realmDoc({
          connections: [pg(), keys],
          jobs: [
            job({ parameters: { db_conn_id: "keys", s3_conn_id: "pg-main" } }),
            job({ job_id: "b", parameters: { db_conn_id: "nope" } }),
          ],
        }),
      );
      expect(problems).toEqual([
        'realms/dev.yaml: job sales/load: parameters.db_conn_id: expected a PostgreSQL connection, but it is of type aws, got "keys"',
        'realms/dev.yaml: job sales/load: parameters.s3_conn_id: expected an aws connection, but it is of type postgres, got "pg-main"',
        'realms/dev.yaml: job b: parameters.db_conn_id: expected a PostgreSQL connection, but no connection has that id, got "nope"',
      ]);
    });

    it("checks references even when the job has other errors", () => {
      const problems = problemsOf(
        realmDoc({ jobs: [job({ enabled: 3, parameters: { db_conn_id: "gone", bogus: 1 } })] }),
      );
      expect(problems).toEqual([
        "realms/dev.yaml: job sales/load: enabled: expected true, false or a template that renders to true, got 3",
        "realms/dev.yaml: job sales/load: parameters.bogus: unknown field",
        'realms/dev.yaml: job sales/load: parameters.db_conn_id: expected a PostgreSQL connection, but no connection has that id, got "gone"',
      ]);
    });

    it("validates db_from_s3 parameter values", () => {
      const problems = problemsOf(
        realmDoc({
          connections: [pg()],
          jobs: [
            job({
              parameters: {
                db_conn_id: "pg-main",
                mode: "replace",
                min_size: "10 XB",
                columns: "id int",
              },
            }),
          ],
        }),
      );
      expect(problems).toEqual([
        'realms/dev.yaml: job sales/load: parameters.mode: expected one of abort, append, delete, drop, switch, truncate, merge, upsert, got "replace"',
        'realms/dev.yaml: job sales/load: parameters.columns: expected a list of column specs like "id INTEGER", got "id int"',
        'realms/dev.yaml: job sales/load: parameters.min_size: expected a size like 100, 10KB or 1MiB, got "10 XB"',
      ]);
    });

    describe("db_from_s3 values, with the parsers a run uses", () => {
      const load = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        job({ parameters: { db_conn_id: "pg-main", mode: "append", ...parameters }, ...extra });
      const AT = "realms/dev.yaml: job sales/load: parameters.";

      it("refuses COPY options that can only fail at run time", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [load({ args: ["FORMAT csv", "OIDS", "HEADER maybe", "NULL 'a' ; DROP"] })],
          }),
        );
        expect(problems).toEqual([
          `${AT}args[1]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS`,
          `${AT}args[2]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"`,
          `${AT}args[3]: NULL needs a quoted string like '', got "'a' ; DROP"`,
        ]);
      });

      it("refuses column specs the column grammar refuses", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [load({ columns: ["id INT)", "name TEXT", "p INT DEFAULT (pg_sleep(5))"] })],
          }),
        );
        expect(problems).toEqual([
          `${AT}columns[0]: column "id": unbalanced ')', got "id INT)"`,
          `${AT}columns[2]: column "p": DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not '(', got "p INT DEFAULT (pg_sleep(5))"`,
        ]);
      });

      it("refuses /regex names that do not compile or have not one group", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [load({ schema: "/^x", table: "/^drops\\/([^/]+" })],
          }),
        );
        expect(problems).toEqual([
          `${AT}schema: regular expression "/^x" has no capture group; put ( ) around the part of the key that is the name`,
          `${AT}table: invalid regular expression "/^drops\\\\/([^/]+": missing ), unterminated subpattern at position 8`,
        ]);
      });

      it("accepts lava's Python /regex names: inline flags, Python escapes, several groups", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [
              load({
                schema: "/(?i)^(\\w+)\\/(?P<table>\\w+)",
                table: "/(?x) ^ [^/]+ \\/ (\\w+) \\- \\d+ \\Z  # name-2024",
              }),
            ],
          }),
        );
        expect(problems).toEqual([]);
      });

      it("refuses /regex names Python runs but JavaScript cannot run alike, saying why", () => {
        const problems = problemsOf(
          realmDoc({ connections: [pg()], jobs: [load({ table: "/(a)?(?(1)b|c)" })] }),
        );
        expect(problems).toEqual([
          `${AT}table: regular expression "/(a)?(?(1)b|c)" cannot be used here: the conditional group (?(…)…) at position 4 has no JavaScript equivalent`,
        ]);
      });

      it("refuses columns with a /regex name", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [load({ table: "/^in\\/(\\w+)", columns: ["id INT"] })],
          }),
        );
        expect(problems).toEqual([
          `${AT}columns: not allowed with a /regex schema or table name (the table must already exist)`,
        ]);
      });

      it("leaves values holding templates to run time", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [
              load({
                table: "/{{ globals.re }}(",
                args: ["FORMAT {{ globals.format }}", "QUOTE '|'"],
              }),
              load(
                { table: "t", columns: ["{% if true %}id INT){% endif %}", "name TEXT"] },
                { job_id: "b" },
              ),
            ],
          }),
        );
        expect(problems).toEqual([]);
      });

      it("reads column names with the connection's preserve_case", () => {
        const force = { args: ["FORMAT csv", "FORCE_NULL (Id, id)"] };
        const folded = problemsOf(realmDoc({ connections: [pg()], jobs: [load(force)] }));
        const kept = problemsOf(
          realmDoc({ connections: [pg({ preserve_case: true })], jobs: [load(force)] }),
        );
        expect(folded).toEqual([`${AT}args[1]: FORCE_NULL lists column "id" twice`]);
        expect(kept).toEqual([]);
      });

      it("checks what glob and fan_out need: a prefix key, and parts to fan out over", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [
              load({ key: "in/day.csv", glob: "*.csv" }),
              load(
                { key: "in/", glob: "*.csv", args: ["FORMAT CSV", "MANIFEST"] },
                { job_id: "b" },
              ),
              load({ key: "in/day.csv", fan_out: { workers: 2 } }, { job_id: "c" }),
              load(
                { key: "in/{{ ustart.strftime('%Y') }}/", glob: "*", fan_out: true },
                { job_id: "d" },
              ),
              load(
                { key: "in/x.manifest", args: ["MANIFEST"], fan_out: { workers: 17 } },
                { job_id: "e" },
              ),
            ],
          }),
        );
        expect(problems).toEqual([
          `${AT}key: with glob the key is a prefix ending in "/", got "in/day.csv"`,
          "realms/dev.yaml: job b: parameters.glob: a load reads a manifest or a prefix, not both (args has MANIFEST)",
          "realms/dev.yaml: job c: parameters.fan_out: fans out over parts: give a MANIFEST (args) or a key prefix with glob",
          expect.stringMatching(/^realms\/dev\.yaml: job e: parameters\.fan_out.*workers/),
        ]);
      });

      it("takes merge's parameters only with mode merge, and refuses contradictions", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [
              load({ mode: "append", key_columns: ["id"], insert_only: true }),
              load({ mode: "merge", insert_only: true, delete_column: "op" }, { job_id: "b" }),
              load({ mode: "upsert", delete_values: ["X"] }, { job_id: "c" }),
              load(
                { mode: "merge", delete_column: "Op", duplicate_keys: "error" },
                { job_id: "d" },
              ),
            ],
          }),
        );
        expect(problems).toEqual([
          `${AT}key_columns: only with mode merge (or upsert), got mode append`,
          `${AT}insert_only: only with mode merge (or upsert), got mode append`,
          "realms/dev.yaml: job b: parameters.delete_column: not with insert_only (an insert-only merge deletes nothing)",
          "realms/dev.yaml: job c: parameters.delete_values: needs delete_column",
        ]);
      });

      it("checks on_bad_rows, lineage and columns_from_header before deploy", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [
              load({ max_bad_rows: 3 }),
              load({ on_bad_rows: "quarantine", max_bad_rows: "ten" }, { job_id: "b" }),
              load({ lineage: ["source_key", "file"] }, { job_id: "c" }),
              load(
                {
                  key: "in/",
                  glob: "*",
                  on_bad_rows: "quarantine",
                  lineage: true,
                  fan_out: true,
                },
                { job_id: "d" },
              ),
              load({ columns_from_header: true, args: ["FORMAT CSV"] }, { job_id: "e" }),
            ],
          }),
        );
        expect(problems).toEqual([
          `${AT}max_bad_rows: only with on_bad_rows: quarantine`,
          expect.stringMatching(/^realms\/dev\.yaml: job b: parameters\.max_bad_rows: /),
          expect.stringMatching(/^realms\/dev\.yaml: job c: parameters\.lineage/),
          "realms/dev.yaml: job d: parameters.on_bad_rows: quarantine is not available with fan_out yet (its items would each need the run's limit)",
          "realms/dev.yaml: job d: parameters.lineage: not available with fan_out yet",
          "realms/dev.yaml: job e: parameters.columns_from_header: needs HEADER in args (the header names the columns)",
        ]);
      });

      it("refuses glob and fan_out set by a trigger", () => {
        const problems = problemsOf(
          realmDoc({
            connections: [pg()],
            jobs: [load({})],
            s3triggers: [
              {
                trigger_id: "t1",
                bucket: "landing",
                prefix: "sales",
                job_id: "sales/load",
                enabled: true,
                parameters: { glob: "*", fan_out: { workers: 9 } },
              },
            ],
          }),
        );
        expect(problems).toEqual([
          'realms/dev.yaml: trigger t1: parameters.glob: only the job spec can set this, not a dispatch, got "*"',
          'realms/dev.yaml: trigger t1: parameters.fan_out: only the job spec can set this, not a dispatch, got {"workers":9}',
        ]);
      });

      it("accepts allow_dispatch_columns in the job spec", () => {
        const realm = realmOf({
          connections: [pg()],
          jobs: [load({ allow_dispatch_columns: true })],
        });
        expect(realm.jobs).toHaveLength(1);
      });
    });

    it("accepts a templated enabled and checks exe connection labels", () => {
      const exe = {
        job_id: "ops/x",
        type: "exe",
        enabled: "{{ globals.on }}",
        payload: "ops/x.sh",
        parameters: { connections: { db: "pg-main", other: "missing" } },
      };
      expect(problemsOf(realmDoc({ connections: [pg()], jobs: [exe] }))).toEqual([
        'realms/dev.yaml: job ops/x: parameters.connections.other: expected a PostgreSQL or aws connection, but no connection has that id, got "missing"',
      ]);
    });
  });

  describe("triggers", () => {
    const trigger = (extra: Record<string, unknown> = {}) => ({
      trigger_id: "t1",
      bucket: "landing",
      prefix: "sales/orders",
      job_id: "sales/load",
      enabled: true,
      ...extra,
    });

    it("accepts templated job ids and lists of existing ones", () => {
      const realm = realmOf({
        connections: [pg()],
        jobs: [job()],
        s3triggers: [
          trigger(),
          trigger({ trigger_id: "t2", job_id: ["sales/load", "{{ key.split('/')[0] }}"] }),
        ],
      });
      expect(realm.triggers).toHaveLength(2);
    });

    it("refuses columns a trigger sets for a job that does not allow it, and allow_dispatch_columns", () => {
      const problems = problemsOf(
        realmDoc({
          connections: [pg()],
          jobs: [job()],
          s3triggers: [
            trigger({ parameters: { columns: ["id INT"] } }),
            trigger({ trigger_id: "t2", parameters: { allow_dispatch_columns: true } }),
          ],
        }),
      );
      expect(problems).toEqual([
        'realms/dev.yaml: trigger t1: parameters.columns: a dispatch may not set columns unless job sales/load has parameters.allow_dispatch_columns: true, got ["id INT"]',
        "realms/dev.yaml: trigger t2: parameters.allow_dispatch_columns: only the job spec can set this, not a dispatch, got true",
      ]);
    });

    it("checks the db_from_s3 values a trigger sets with the parsers a run uses", () => {
      const allowing = job({
        parameters: { db_conn_id: "pg-main", mode: "append", allow_dispatch_columns: true },
      });
      const problems = problemsOf(
        realmDoc({
          connections: [pg()],
          jobs: [allowing],
          s3triggers: [
            trigger({
              parameters: {
                columns: ["id INT", 'c TEXT COLLATE "C"', "{{ globals.col }}"],
                args: ["HEADER maybe"],
                table: "/(",
              },
            }),
          ],
        }),
      );
      expect(problems).toEqual([
        'realms/dev.yaml: trigger t1: parameters.columns[1]: column "c": COLLATE is not allowed: after the type only NOT NULL, NULL, PRIMARY KEY, UNIQUE and DEFAULT <constant> may follow, got "c TEXT COLLATE \\"C\\""',
        'realms/dev.yaml: trigger t1: parameters.args[0]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"',
        'realms/dev.yaml: trigger t1: parameters.table: invalid regular expression "/(": missing ), unterminated subpattern at position 0',
        "realms/dev.yaml: trigger t1: parameters.columns: not allowed with a /regex schema or table name (the table must already exist)",
      ]);
    });

    it("refuses a job id naming no job, a trailing slash, a long delay and an unknown condition", () => {
      const problems = problemsOf(
        realmDoc({ s3triggers: [trigger({ prefix: "a/", delay: "16m", if_colour: "red" })] }),
      );
      expect(problems).toEqual([
        'realms/dev.yaml: trigger t1: prefix: expected a key prefix without a trailing / (levels are path segments), got "a/"',
        'realms/dev.yaml: trigger t1: delay: expected a duration like 30s, 5m or 2h (at most 15m), got "16m"',
        "realms/dev.yaml: trigger t1: if_colour: unknown field",
        'realms/dev.yaml: trigger t1: job_id: expected the id of a job in this realm, got "sales/load"',
      ]);
    });
  });
});

describe("secret names", () => {
  it("takes the name out of an ARN without its random suffix", () => {
    expect(
      secretName("arn:aws:secretsmanager:us-east-1:123456789012:secret:/lava/dev/db-AbC123"),
    ).toBe("/lava/dev/db");
    expect(secretName("/lava/dev/db")).toBe("/lava/dev/db");
  });

  it("allows the realm's own secrets by name or ARN", () => {
    expect(secretAllowed("dev", [], "/lava/dev/db")).toBe(true);
    expect(
      secretAllowed("dev", [], "arn:aws:secretsmanager:us-east-1:1:secret:/lava/dev/db-AbC123"),
    ).toBe(true);
    expect(secretAllowed("dev", [], "/lava/development/db")).toBe(false);
    expect(secretAllowed("dev", ["rds!x"], "rds!x")).toBe(true);
  });
});

describe("pipelines name jobs of the realm", () => {
  it("refuses unknown jobs of a chain, its start, a foreach's child and connection, a dispatch job's and a dispatch action's", () => {
    const doc = {
      realm: "dev",
      connections: [
        {
          conn_id: "pg",
          type: "postgres",
          enabled: true,
          host: "h",
          database: "d",
          user: "u",
          password: "/lava/dev/pg",
        },
      ],
      jobs: [
        {
          job_id: "c",
          type: "chain",
          enabled: true,
          payload: ["nope1", "a"],
          parameters: { start: "nope3" },
        },
        {
          job_id: "f",
          type: "foreach",
          enabled: true,
          payload: "nope4",
          parameters: { foreach: { type: "query", conn_id: "nope5", query: "SELECT 1 AS a" } },
        },
        { job_id: "d", type: "dispatch", enabled: true, payload: "a, nope6" },
        {
          job_id: "a",
          type: "sqli",
          enabled: true,
          payload: "SELECT 1",
          parameters: { conn_id: "pg" },
          on_success: [
            { action: "dispatch", job_id: "nope8" },
            { action: "dispatch", job_id: "{{ globals.next }}" },
          ],
        },
      ],
    };
    let problems: readonly string[] = [];
    try {
      validateRealm(doc, "realms/dev.yaml");
    } catch (err) {
      problems = (err as SpecError).problems;
    }
    expect(problems).toEqual([
      'realms/dev.yaml: job c: payload: job "nope1" is not defined in this realm',
      'realms/dev.yaml: job c: parameters.start: "nope3" is not a job of the chain',
      'realms/dev.yaml: job f: payload: job "nope4" is not defined in this realm',
      'realms/dev.yaml: job f: parameters.foreach.conn_id: expected a PostgreSQL connection, but no connection has that id, got "nope5"',
      'realms/dev.yaml: job d: payload: job "nope6" is not defined in this realm',
      'realms/dev.yaml: job a: on_success[0].job_id: job "nope8" is not defined in this realm',
    ]);
  });
});
