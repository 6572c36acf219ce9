import { describe, expect, it } from "vitest";
import { checkLoadParams } from "../../../../lambda/jobs/db-from-s3/params";
import { PG_CONNECTION, realmOf } from "../../../support/realm-fixture";
import { thrownProblems } from "../../../support/rejection";

const OWN = {
  db_conn_id: "pg",
  bucket: "b",
  key: "k.csv",
  schema: "sales",
  table: "orders",
  mode: "append" as const,
  columns: ["id INTEGER PRIMARY KEY", "name TEXT"],
};

/** A realm with one db_from_s3 job `sales/load` whose parameters are `params`. */
const realmWith = (params: Record<string, unknown>) =>
  realmOf({
    connections: [PG_CONNECTION],
    jobs: [{ job_id: "sales/load", type: "db_from_s3", enabled: true, parameters: params }],
  });

/** The job's parameters with a dispatch's merged over them, as the runner and resolve step do. */
const merged = (own: Record<string, unknown>, dispatched: Record<string, unknown>) => ({
  ...own,
  ...dispatched,
});

describe("checkLoadParams: columns from a dispatch", () => {
  it("accepts the job's own columns", () => {
    // Prepare
    const realm = realmWith(OWN);
    // Act
    const p = checkLoadParams(realm, "sales/load", merged(OWN, { key: "other.csv" }));
    // Assess
    expect(p.columns?.map((c) => c.definition)).toEqual([
      '"id" INTEGER PRIMARY KEY',
      '"name" TEXT',
    ]);
  });

  it("refuses columns a dispatch sets when the job does not allow it", () => {
    const realm = realmWith(OWN);
    const problems = thrownProblems(() =>
      checkLoadParams(realm, "sales/load", merged(OWN, { columns: ["id INTEGER"] })),
    );
    expect(problems).toEqual([
      'job sales/load: parameters.columns: a dispatch may not set columns unless the job has parameters.allow_dispatch_columns: true, got ["id INTEGER"]',
    ]);
  });

  it("refuses dispatched columns for a job that has none of its own", () => {
    const { columns: _, ...noColumns } = OWN;
    const realm = realmWith(noColumns);
    expect(
      thrownProblems(() =>
        checkLoadParams(realm, "sales/load", merged(noColumns, { columns: ["id INTEGER"] })),
      ),
    ).toEqual([
      'job sales/load: parameters.columns: a dispatch may not set columns unless the job has parameters.allow_dispatch_columns: true, got ["id INTEGER"]',
    ]);
  });

  it("accepts the same columns as the job's from a dispatch", () => {
    const realm = realmWith(OWN);
    const p = checkLoadParams(realm, "sales/load", merged(OWN, { columns: [...OWN.columns] }));
    expect(p.columns?.map((c) => c.name)).toEqual(["id", "name"]);
  });

  it("accepts dispatched columns when the job allows them, through the same column grammar", () => {
    // Prepare
    const own = { ...OWN, allow_dispatch_columns: true };
    const realm = realmWith(own);
    // Act
    const p = checkLoadParams(realm, "sales/load", merged(own, { columns: ["n NUMERIC(4,1)"] }));
    const problems = thrownProblems(() =>
      checkLoadParams(
        realm,
        "sales/load",
        merged(own, { columns: ["id int DEFAULT (pg_sleep(5))"] }),
      ),
    );
    // Assess
    expect(p.columns).toEqual([{ name: "n", definition: '"n" NUMERIC(4,1)' }]);
    expect(problems).toEqual([
      `job sales/load: parameters.columns[0]: column "id": DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not '(', got "id int DEFAULT (pg_sleep(5))"`,
    ]);
  });

  it("refuses a dispatch that sets allow_dispatch_columns itself", () => {
    const realm = realmWith(OWN);
    const problems = thrownProblems(() =>
      checkLoadParams(
        realm,
        "sales/load",
        merged(OWN, { allow_dispatch_columns: true, columns: ["id INTEGER"] }),
      ),
    );
    expect(problems).toEqual([
      "job sales/load: parameters.allow_dispatch_columns: only the job spec can set this, not a dispatch, got true",
      'job sales/load: parameters.columns: a dispatch may not set columns unless the job has parameters.allow_dispatch_columns: true, got ["id INTEGER"]',
    ]);
  });

  it("refuses hostile column specs in the job's own parameters too", () => {
    // Prepare: the realm validator refuses such a job, so build the realm around it.
    const own = { ...OWN, columns: ["id INTEGER", "p INT CHECK (pg_sleep(5) IS NULL)"] };
    const valid = realmWith(OWN);
    const job = {
      job_id: "sales/load",
      type: "db_from_s3" as const,
      enabled: true,
      parameters: own,
    };
    const realm = { ...valid, jobs: [job] };
    // Act, Assess
    expect(thrownProblems(() => checkLoadParams(realm, "sales/load", own))).toEqual([
      'job sales/load: parameters.columns[1]: column "p": CHECK is not allowed: after the type only NOT NULL, NULL, PRIMARY KEY, UNIQUE and DEFAULT <constant> may follow, got "p INT CHECK (pg_sleep(5) IS NULL)"',
    ]);
  });
});

describe("checkLoadParams: regex names", () => {
  it("refuses a /regex name that does not compile before any work, as check does", () => {
    const own = { ...OWN, columns: undefined, table: "/^drops\\/([^/]+" };
    const realm = realmWith({ ...OWN, columns: undefined, table: "x" });
    expect(thrownProblems(() => checkLoadParams(realm, "sales/load", own))).toEqual([
      'job sales/load: parameters.table: invalid regular expression "/^drops\\\\/([^/]+": missing ), unterminated subpattern at position 8',
    ]);
  });

  it.each([
    ["/(?i)^drops\\/(\\w+)", "inline flags"],
    ["/^drops\\-(\\w+)\\Z", "Python escapes"],
    ["/(?x) ^ drops / (?P<t> [a-z_]+ )  # the table", "verbose mode"],
    ["/^(\\w+)\\/(\\w+)", "several groups (the name is group 1)"],
  ])("accepts the lava /regex name %j (%s), as check does", (table) => {
    const own = { ...OWN, columns: undefined, table };
    const realm = realmWith(own);
    expect(checkLoadParams(realm, "sales/load", own).table).toBe(table);
  });

  it("refuses a /regex name JavaScript cannot run as Python does, with the reason", () => {
    const own = { ...OWN, columns: undefined, table: "/(?i:drops)\\/(\\w+)" };
    const realm = realmWith({ ...OWN, columns: undefined, table: "x" });
    expect(thrownProblems(() => checkLoadParams(realm, "sales/load", own))).toEqual([
      'job sales/load: parameters.table: regular expression "/(?i:drops)\\\\/(\\\\w+)" cannot be used here: the group at position 0 turns case-insensitive matching on for part of the pattern, which JavaScript cannot do; put (?i) at the start to make all of it case-insensitive',
    ]);
  });
});
