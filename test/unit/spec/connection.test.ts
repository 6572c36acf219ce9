import { describe, expect, it } from "vitest";
import { connectionSchema } from "../../../lambda/spec/connection";
import { problemsOf, realmDoc, realmOf } from "../../support/realm-fixture";

const pg = (extra: Record<string, unknown> = {}) => ({
  conn_id: "pg",
  type: "postgres",
  enabled: true,
  host: "db.example.com",
  database: "app",
  user: "loader",
  password: "/lava/dev/pg",
  ...extra,
});

describe("connectionSchema port", () => {
  // lava/lib/schema/lava/common/posint.yaml: an integer >= 1 or a string of digits.
  it("reads lava's numeric string port as a number", () => {
    // Act
    const parsed = connectionSchema.parse(pg({ port: "5432" }));
    // Assess
    expect(parsed).toMatchObject({ port: 5432 });
  });

  it("keeps an integer port", () => {
    expect(connectionSchema.parse(pg({ port: 6543 }))).toMatchObject({ port: 6543 });
  });

  it.each([
    ["seventy", '"seventy"'],
    ["0", '"0"'],
    ["65536", '"65536"'],
    [0, "0"],
    ["54.32", '"54.32"'],
    [" 5432", '" 5432"'],
    [5432.5, "5432.5"],
  ])("refuses port %j, showing the value", (port, shown) => {
    expect(problemsOf(realmDoc({ connections: [pg({ port })] }))).toEqual([
      `realms/dev.yaml: connection pg: port: expected an integer 1-65535, got ${shown}`,
    ]);
  });
});

/** An aws connection assuming a role: lava's shape (lava/lib/schema/lava/connection/aws.yaml). */
const role = (extra: Record<string, unknown> = {}) => ({
  conn_id: "s3",
  type: "aws",
  enabled: true,
  role_arn: "arn:aws:iam::123456789012:role/partner",
  ...extra,
});

const POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::landing/*" }],
};

describe("connectionSchema aws session options", () => {
  it("accepts lava's policy_arns (one or a list), inline policy (a mapping) and tags", () => {
    // Prepare
    const one = role({ policy_arns: "arn:aws:iam::aws:policy/ReadOnlyAccess" });
    const many = role({
      conn_id: "s3b",
      policy_arns: [
        "arn:aws:iam::123456789012:policy/landing-read",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ],
      policy: POLICY,
      tags: { project: "sales", "cost-centre": "CC 1234/a" },
      external_id: "/lava/dev/partner-external-id",
    });
    // Act
    const realm = realmOf({ connections: [one, many] });
    // Assess
    expect(realm.connections).toMatchObject([
      { policy_arns: "arn:aws:iam::aws:policy/ReadOnlyAccess" },
      {
        policy_arns: [
          "arn:aws:iam::123456789012:policy/landing-read",
          "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ],
        policy: POLICY,
        tags: { project: "sales", "cost-centre": "CC 1234/a" },
      },
    ]);
  });

  it("refuses policy_arns that are not IAM policy ARNs, or more than AWS's 10", () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    expect(
      problemsOf(
        realmDoc({
          connections: [
            role({ policy_arns: "arn:aws:iam::123456789012:role/r" }),
            role({ conn_id: "s3b", policy_arns: ["arn:aws:iam::aws:policy/A", 3] }),
            role({ conn_id: "s3c", policy_arns: eleven }),
            role({ conn_id: "s3d", policy_arns: [] }),
          ],
        }),
      ),
    ).toEqual([
      'realms/dev.yaml: connection s3: policy_arns: expected an IAM policy ARN or a list of 1-10 of them, got "arn:aws:iam::123456789012:role/r"',
      'realms/dev.yaml: connection s3b: policy_arns: expected an IAM policy ARN or a list of 1-10 of them, got ["arn:aws:iam::aws:policy/A",3]',
      `realms/dev.yaml: connection s3c: policy_arns: expected an IAM policy ARN or a list of 1-10 of them, got ${JSON.stringify(eleven).slice(0, 79)}…`,
      "realms/dev.yaml: connection s3d: policy_arns: expected an IAM policy ARN or a list of 1-10 of them, got []",
    ]);
  });

  it("refuses a policy that is not a policy document (lava's is a mapping, sent as JSON)", () => {
    expect(
      problemsOf(
        realmDoc({
          connections: [
            role({ policy: JSON.stringify(POLICY) }),
            role({ conn_id: "s3b", policy: { Version: "2012-10-17" } }),
            role({ conn_id: "s3c", policy: { Statement: [] } }),
          ],
        }),
      ),
    ).toEqual([
      `realms/dev.yaml: connection s3: policy: expected an IAM policy document: a mapping with a Statement, got ${JSON.stringify(JSON.stringify(POLICY)).slice(0, 79)}…`,
      'realms/dev.yaml: connection s3b: policy: expected an IAM policy document: a mapping with a Statement, got {"Version":"2012-10-17"}',
      'realms/dev.yaml: connection s3c: policy: expected an IAM policy document: a mapping with a Statement, got {"Statement":[]}',
    ]);
  });

  it("refuses an inline policy over AWS's 2048 characters of JSON", () => {
    // Prepare: 40 statements of ~60 characters each
    const big = {
      Version: "2012-10-17",
      Statement: Array.from({ length: 40 }, (_, i) => ({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: `arn:aws:s3:::b${i}/*`,
      })),
    };
    expect(JSON.stringify(big).length).toBeGreaterThan(2048);
    // Act
    const problems = problemsOf(realmDoc({ connections: [role({ policy: big })] }));
    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^realms\/dev.yaml: connection s3: policy: expected at most 2048 characters as JSON \(AWS's limit for session policies\): \d+ here, got /,
    );
  });

  it("refuses tags AWS refuses: not a string map, over 50, bad keys or values, keys equal but for case", () => {
    const fiftyOne = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expect(
      problemsOf(
        realmDoc({
          connections: [
            role({ tags: ["project"] }),
            role({ conn_id: "s3b", tags: { n: 3 } }),
            role({ conn_id: "s3c", tags: fiftyOne }),
            role({ conn_id: "s3d", tags: { "bad*key": "v", ["k".repeat(129)]: "v" } }),
            role({ conn_id: "s3e", tags: { ok: "v".repeat(257), semi: "a;b" } }),
            role({ conn_id: "s3f", tags: { Project: "a", project: "b" } }),
          ],
        }),
      ),
    ).toEqual([
      'realms/dev.yaml: connection s3: tags: expected a mapping of session tag keys to string values, got ["project"]',
      "realms/dev.yaml: connection s3b: tags.n: expected a session tag value: a string, got 3",
      `realms/dev.yaml: connection s3c: tags: expected at most 50 session tags (AWS's limit), got ${JSON.stringify(fiftyOne).slice(0, 79)}…`,
      'realms/dev.yaml: connection s3d: tags.bad*key: expected a session tag key: 1-128 letters, digits, spaces and _ . : / = + - @, got "bad*key"',
      `realms/dev.yaml: connection s3d: tags.${"k".repeat(129)}: expected a session tag key: 1-128 letters, digits, spaces and _ . : / = + - @, got "${"k".repeat(78)}…`,
      `realms/dev.yaml: connection s3e: tags.ok: expected a session tag value: at most 256 letters, digits, spaces and _ . : / = + - @, got "${"v".repeat(78)}…`,
      'realms/dev.yaml: connection s3e: tags.semi: expected a session tag value: at most 256 letters, digits, spaces and _ . : / = + - @, got "a;b"',
      'realms/dev.yaml: connection s3f: tags.project: expected tag keys that differ in more than case (AWS compares them case-insensitively), got "project"',
    ]);
  });

  it("refuses session options and an external_id without role_arn, and an external_id outside the realm", () => {
    expect(
      problemsOf(
        realmDoc({
          connections: [
            {
              conn_id: "keys",
              type: "aws",
              enabled: true,
              access_keys: "/lava/dev/keys",
              policy_arns: "arn:aws:iam::aws:policy/ReadOnlyAccess",
              policy: POLICY,
              tags: { a: "b" },
            },
            role({ external_id: "partner-7731" }),
          ],
        }),
      ),
    ).toEqual([
      'realms/dev.yaml: connection keys: policy_arns: only meaningful with role_arn, got "arn:aws:iam::aws:policy/ReadOnlyAccess"',
      `realms/dev.yaml: connection keys: policy: only meaningful with role_arn, got ${JSON.stringify(POLICY).slice(0, 79)}…`,
      'realms/dev.yaml: connection keys: tags: only meaningful with role_arn, got {"a":"b"}',
      'realms/dev.yaml: connection s3: external_id: expected the name of an SSM parameter under /lava/dev/ holding the external ID (lava reads it from SSM), got "partner-7731"',
    ]);
  });
});
