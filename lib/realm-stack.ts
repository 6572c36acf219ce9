/**
 * Stack `lava-<realm>`. This first brick holds the realm key; functions, the
 * state machine and event wiring build on it.
 */
import { RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import type { Realm } from "../lambda/spec/validate";

export interface RealmStackProps extends StackProps {
  /** The validated realm this stack deploys. */
  readonly realm: Realm;
}

/** Everything one realm needs, named after it. */
export class RealmStack extends Stack {
  /** KMS key `alias/lava-<realm>-sys`: encrypts the realm's SecureStrings and secrets. */
  readonly realmKey: kms.Key;

  constructor(scope: Construct, id: string, props: RealmStackProps) {
    super(scope, id, props);
    const name = props.realm.name;
    this.realmKey = new kms.Key(this, "RealmKey", {
      alias: `alias/lava-${name}-sys`,
      description: `lava-aurora realm ${name}: SSM SecureStrings and secrets`,
      enableKeyRotation: true,
      // Deleting the key would make every stored password unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
