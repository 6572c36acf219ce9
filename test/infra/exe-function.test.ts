/** A realm with exe.enabled gets lava-<realm>-exe, a container image built at deploy time, and the state machine routes exe/pkg jobs to it. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { buildApp } from "../../lib/app";

const repo = new URL("../..", import.meta.url).pathname;
let cwd: string;
let app: App;
let template: Template;

beforeAll(async () => {
  // The example realm, with exe enabled (synthesized offline: no Docker needed to stage the image).
  cwd = await mkdtemp(join(tmpdir(), "lava-exe-"));
  await mkdir(join(cwd, "realms"));
  const doc = parse(await readFile(join(repo, "realms/example.yaml"), "utf8"));
  doc.realm = "exetest";
  doc.exe = { enabled: true };
  for (const c of doc.connections) {
    if (typeof c.password === "string")
      c.password = c.password.replace("/lava/example/", "/lava/exetest/");
    if (typeof c.secret_id === "string")
      c.secret_id = c.secret_id.replace("/lava/example/", "/lava/exetest/");
    if (typeof c.access_keys === "string")
      c.access_keys = c.access_keys.replace("/lava/example/", "/lava/exetest/");
    if (typeof c.external_id === "string")
      c.external_id = c.external_id.replace("/lava/example/", "/lava/exetest/");
  }
  await writeFile(join(cwd, "realms", "exetest.yaml"), stringify(doc));
  const built = await buildApp(new App({ context: { realm: "exetest" } }), cwd);
  app = built.app;
  template = Template.fromStack(built.stack);
}, 180_000);

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describe("exe.enabled", () => {
  it("adds lava-<realm>-exe as a container image in the realm's VPC", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "lava-exetest-exe",
      PackageType: "Image",
      Code: { ImageUri: Match.anyValue() },
      VpcConfig: Match.objectLike({
        SubnetIds: ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"],
      }),
      Environment: {
        Variables: Match.objectLike({ NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" }),
      },
    });
  });

  it("lets it read the payloads and use the realm's secrets and temporary location", () => {
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Sid?: string }[],
    );
    const sids = statements.map((s) => s.Sid).filter(Boolean);
    for (const sid of [
      "ReadPayloads",
      "ListPayloads0",
      "RealmParameters",
      "RealmSecrets",
      "UseTemp",
    ])
      expect(sids).toContain(sid);
  });

  it("routes exe and pkg jobs to it in the state machine", () => {
    const sm = Object.values(template.findResources("AWS::StepFunctions::StateMachine"))[0];
    const definition = JSON.stringify(sm?.Properties.DefinitionString);
    expect(definition).toContain("Run exe job");
    expect(definition).not.toContain("No exe function");
  });

  it("synthesizes with no cdk-nag finding", () => {
    expect(() => app.synth()).not.toThrow();
  });
});
