import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../lib/app";

const repo = new URL("../..", import.meta.url).pathname;

describe("stack lava-<realm>", () => {
  it("builds lava-example from realms/example.yaml with a rotating realm key aliased alias/lava-example-sys", async () => {
    // Act
    const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
    // Assess
    expect(stack.stackName).toBe("lava-example");
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    template.hasResourceProperties("AWS::KMS::Alias", {
      AliasName: "alias/lava-example-sys",
      TargetKeyId: Match.objectLike({ "Fn::GetAtt": [Match.stringLikeRegexp("RealmKey"), "Arn"] }),
    });
    template.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain" });
  });

  it("synthesizes with cdk-nag AwsSolutions checks active and finds nothing", async () => {
    // Prepare
    const { app } = await buildApp(new App({ context: { realm: "example" } }), repo);
    // Act, Assess
    expect(() => app.synth()).not.toThrow();
  });

  it("fails synth when cdk-nag finds something (the checks are really wired in)", async () => {
    const { app, stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
    new s3.Bucket(stack, "UnloggedBucket");
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it("fails synth without a realm, or for a realm file that does not exist", async () => {
    await expect(buildApp(new App(), repo)).rejects.toThrow("give the realm with -c realm=<name>");
    await expect(buildApp(new App({ context: { realm: "nosuch" } }), repo)).rejects.toThrow(
      "realms/nosuch.yaml: cannot read the realm file: no such file",
    );
  });
});
