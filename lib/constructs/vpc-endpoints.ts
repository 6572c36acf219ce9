/**
 * The realm's network (docs/realm-files.md §2 `vpc`): the VPC, subnets and security groups are
 * given as ids, so `cdk synth` imports them without lookups. With
 * `create_endpoints`, {@link RealmVpcEndpoints} gives the functions private
 * routes to the AWS APIs they call, and Aurora's `aws_s3` its S3 route.
 */
import { Annotations, Fn, Token } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Construct } from "constructs";

/** The realm's VPC placement, as ids. */
export interface RealmVpcProps {
  /** VPC id (`vpc-…`). */
  readonly vpcId: string;
  /** Subnets for the functions and interface endpoints (`subnet-…`), at least one. */
  readonly subnetIds: readonly string[];
  /** Security groups for the functions and interface endpoints (`sg-…`), at least one. */
  readonly securityGroupIds: readonly string[];
}

/** What a VPC-attached function needs: `vpc`, `vpcSubnets`, `securityGroups`. */
export interface RealmVpc {
  /** The imported VPC; it knows no subnets, so always pass `subnets` with it. */
  readonly vpc: ec2.IVpc;
  /** Exactly the realm's subnets. */
  readonly subnets: ec2.SubnetSelection;
  /** The realm's security groups, imported immutable (this stack does not own them). */
  readonly securityGroups: ec2.ISecurityGroup[];
}

/**
 * Import the realm's VPC, subnets and security groups without lookups, for
 * `new lambda.Function(..., { vpc, vpcSubnets: subnets, securityGroups })`.
 */
export function realmVpc(scope: Construct, id: string, props: RealmVpcProps): RealmVpc {
  validateVpcProps("realmVpc", props);
  const container = new Construct(scope, id);
  // fromVpcAttributes needs AZs, and the realm names none: a deploy-time token
  // satisfies it, and as the VPC holds no subnets it never reaches the template.
  const vpc = ec2.Vpc.fromVpcAttributes(container, "Vpc", {
    vpcId: props.vpcId,
    availabilityZones: Fn.getAzs(),
  });
  const subnets = props.subnetIds.map((subnetId, i) =>
    ec2.Subnet.fromSubnetId(container, `Subnet${i}`, subnetId),
  );
  const securityGroups = props.securityGroupIds.map((sgId, i) =>
    ec2.SecurityGroup.fromSecurityGroupId(container, `SecurityGroup${i}`, sgId, { mutable: false }),
  );
  // Both warnings are about derived information this module never uses: subnets come
  // from the realm by id (not from AZs), and no code reads these subnets' route tables.
  Annotations.of(container).acknowledgeWarning(
    "@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones",
    "subnets are given by id; no subnet list is derived from the AZs",
  );
  Annotations.of(container).acknowledgeWarning(
    "@aws-cdk/aws-ec2:noSubnetRouteTableId",
    "nothing reads these subnets' route tables; the S3 gateway endpoint takes route_table_ids",
  );
  return { vpc, subnets: { subnets }, securityGroups };
}

/** Properties of {@link RealmVpcEndpoints}. */
export interface RealmVpcEndpointsProps extends RealmVpcProps {
  /**
   * Route tables of the subnets that reach S3 (the functions' and Aurora's).
   * @default - no S3 gateway endpoint (the VPC must already route to S3)
   */
  readonly routeTableIds?: readonly string[];
}

/** The interface endpoints the realm's functions need, by construct id. */
export const REALM_INTERFACE_SERVICES = {
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
} as const;

/**
 * Interface endpoints (private DNS) for SSM, Secrets Manager, KMS, STS and Step
 * Functions in the realm's subnets and security groups, and an S3 gateway
 * endpoint on the given route tables. The security groups must allow HTTPS
 * (443) from the functions' security groups; this construct does not change them.
 */
export class RealmVpcEndpoints extends Construct {
  /** The interface endpoints, keyed like {@link REALM_INTERFACE_SERVICES}. */
  readonly interfaceEndpoints: Readonly<
    Record<keyof typeof REALM_INTERFACE_SERVICES, ec2.InterfaceVpcEndpoint>
  >;
  /** The S3 gateway endpoint, when route tables were given. */
  readonly s3Gateway: ec2.CfnVPCEndpoint | undefined;

  constructor(scope: Construct, id: string, props: RealmVpcEndpointsProps) {
    super(scope, id);
    validateVpcProps("RealmVpcEndpoints", props);
    const routeTableIds = props.routeTableIds ?? [];
    checkIds("RealmVpcEndpoints", "routeTableIds", "rtb", routeTableIds, 0);

    const { vpc, subnets, securityGroups } = realmVpc(this, "Network", props);
    const endpoint = (name: string, service: ec2.IInterfaceVpcEndpointService) =>
      new ec2.InterfaceVpcEndpoint(this, name, {
        vpc,
        service,
        subnets,
        securityGroups,
        privateDnsEnabled: true,
        // Imported groups are immutable: no ingress rule is added to them.
        open: false,
      });
    const s = REALM_INTERFACE_SERVICES;
    this.interfaceEndpoints = {
      Ssm: endpoint("Ssm", s.Ssm),
      SecretsManager: endpoint("SecretsManager", s.SecretsManager),
      Kms: endpoint("Kms", s.Kms),
      Sts: endpoint("Sts", s.Sts),
      StepFunctions: endpoint("StepFunctions", s.StepFunctions),
    };

    // The L2 gateway endpoint wants subnet objects with route tables; the realm
    // gives route table ids only, which is exactly what CloudFormation takes.
    this.s3Gateway =
      routeTableIds.length === 0
        ? undefined
        : new ec2.CfnVPCEndpoint(this, "S3", {
            vpcId: props.vpcId,
            serviceName: ec2.GatewayVpcEndpointAwsService.S3.name,
            vpcEndpointType: ec2.VpcEndpointType.GATEWAY,
            routeTableIds: [...routeTableIds],
          });
  }
}

function validateVpcProps(who: string, props: RealmVpcProps): void {
  if (!Token.isUnresolved(props.vpcId) && !/^vpc-[0-9a-f]+$/.test(props.vpcId)) {
    throw new Error(
      `${who}: vpcId must be a VPC id like vpc-0abc, got ${JSON.stringify(props.vpcId)}`,
    );
  }
  checkIds(who, "subnetIds", "subnet", props.subnetIds, 1);
  checkIds(who, "securityGroupIds", "sg", props.securityGroupIds, 1);
}

function checkIds(who: string, field: string, prefix: string, ids: readonly string[], min: number) {
  if (ids.length < min) {
    throw new Error(`${who}: ${field} must list at least ${min} id, got ${JSON.stringify(ids)}`);
  }
  const pattern = new RegExp(`^${prefix}-[0-9a-f]+$`);
  const bad = ids.filter((v) => !Token.isUnresolved(v) && !pattern.test(v));
  if (bad.length > 0) {
    throw new Error(`${who}: ${field} must be ids like ${prefix}-0abc, got ${JSON.stringify(bad)}`);
  }
  if (new Set(ids).size !== ids.length) {
    throw new Error(`${who}: ${field} lists an id twice, got ${JSON.stringify(ids)}`);
  }
}
