/** Builds the CDK app for one realm: `cdk synth -c realm=<name>`. */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { SpecError } from "../lambda/shared/errors";
import { loadRealmFile, realmFileFor } from "../lambda/spec/load";
import { RealmStack } from "./realm-stack";

/** Create the app and stack `lava-<realm>` from `realms/<realm>.yaml` (validated as `check` does). */
export async function buildApp(
  app: App = new App(),
  cwd = process.cwd(),
): Promise<{ app: App; stack: RealmStack }> {
  const name = app.node.tryGetContext("realm");
  if (typeof name !== "string" || name === "") {
    throw new SpecError(["give the realm with -c realm=<name> (reads realms/<name>.yaml)"]);
  }
  const realm = await loadRealmFile(realmFileFor(name, cwd), { expectedRealm: name });
  const stack = new RealmStack(app, `lava-${realm.name}`, {
    realm,
    stackName: `lava-${realm.name}`,
    description: `lava-aurora realm ${realm.name}`,
    ...(realm.top.account && realm.top.region
      ? { env: { account: realm.top.account, region: realm.top.region } }
      : {}),
  });
  // cdk-nag runs as a synth-time validation: any unacknowledged finding fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
