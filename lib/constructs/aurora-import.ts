/**
 * The realm's Aurora S3-import role (docs/realm-files.md §2, `aurora_clusters[].s3_import`; docs/db-from-s3.md §8.1):
 * `rds.amazonaws.com` may read the realm's source prefixes and its temporary
 * prefix (GZIP copies are imported from there), and the role is associated with
 * each importing cluster for feature `s3Import`.
 */
import { ArnFormat, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { REALM_NAME } from "../../lambda/spec/realm";
import { acknowledge, acknowledgeWildcard } from "../nag";
import { type PrefixRead, prefixReadStatements, s3ArnOf } from "./s3-prefix-read";

/** Aurora's feature name for `aws_s3.table_import_from_s3`. */
export const S3_IMPORT_FEATURE = "s3Import";

/** A bucket (and optionally a key prefix) the import role may read. */
export interface S3ImportSource {
  /** Bucket name. */
  readonly bucket: string;
  /**
   * Key prefix, matched literally (`sales/` allows `sales/*`; `sales` also allows `sales-old/*`).
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * KMS key that encrypts the bucket's objects; the role may `kms:Decrypt` with it.
   * @default - no KMS permission (SSE-S3 or unencrypted objects)
   */
  readonly kmsKeyArn?: string;
}

/** The realm's temporary location, as `parseS3Location("s3://bucket/prefix")` returns it. */
export interface S3ImportTemp {
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix without a trailing slash; `""` for the whole bucket. */
  readonly prefix: string;
}

/** An Aurora cluster of the realm. */
export interface S3ImportCluster {
  /** The DB cluster identifier (not the resource id). */
  readonly clusterIdentifier: string;
  /** Associate the import role with this cluster for feature `s3Import`. */
  readonly s3Import: boolean;
}

/** Properties of {@link AuroraS3Import}. */
export interface AuroraS3ImportProps {
  /** The realm name; the role is named `lava-<realm>-aurora-s3-import`. */
  readonly realmName: string;
  /** Buckets/prefixes to read (`s3_sources`). */
  readonly sources: readonly S3ImportSource[];
  /**
   * Temporary location GZIP copies are imported from (`s3_temp`); read on `<bucket>/<prefix>/*`.
   * @default - no temporary location readable
   */
  readonly temp?: S3ImportTemp;
  /** The realm's clusters; those with `s3Import` (at least one) get the role associated, and only they may assume it. */
  readonly clusters: readonly S3ImportCluster[];
  /**
   * Retention of the association custom resource's provider logs (applies when this
   * construct is the first in the stack to use `AwsCustomResource`).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

// Bucket names per S3's rules; a token (e.g. another construct's bucket) is not checked.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Multi-Region keys have ids like mrk-…
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]+$/;
// RDS: 1–63 letters, digits, hyphens; starts with a letter; no trailing or double hyphen.
const CLUSTER_IDENTIFIER = /^[a-zA-Z](?:-?[a-zA-Z0-9])*$/;
// Error names (SDK v3 exception names, and the bare wire codes) that mean "already done".
const ALREADY_ASSOCIATED = "^DBClusterRoleAlreadyExists(Fault)?$";
const NOT_ASSOCIATED = "^(DBClusterRoleNotFound|DBClusterNotFound)(Fault)?$";
// The id CDK gives the stack-wide AwsCustomResource provider function.
const PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, "")}`;

/**
 * IAM role for Aurora PostgreSQL's `aws_s3` extension, scoped to the realm's
 * S3 prefixes, and its association with the clusters that import from S3.
 */
export class AuroraS3Import extends Construct {
  /** The role Aurora assumes to read S3 (`rds.amazonaws.com`). */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuroraS3ImportProps) {
    super(scope, id);
    validate(props);
    const stack = Stack.of(this);

    const importing = props.clusters.filter((c) => c.s3Import);
    this.role = new iam.Role(this, "Role", {
      roleName: roleNameFor(props.realmName),
      description: `lava-aurora realm ${props.realmName}: Aurora aws_s3 imports`,
      // Confused-deputy guard: only RDS acting for this account's importing clusters may assume it.
      assumedBy: new iam.ServicePrincipal("rds.amazonaws.com", {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnEquals: {
            "aws:SourceArn": importing.map((c) => clusterArnFor(stack, c.clusterIdentifier)),
          },
        },
      }),
    });

    const reads: PrefixRead[] = props.sources.map((s) => ({
      bucket: s.bucket,
      keyPrefix: s.prefix ?? "",
    }));
    if (props.temp) {
      const prefix = props.temp.prefix.replace(/\/+$/, "");
      reads.push({ bucket: props.temp.bucket, keyPrefix: prefix === "" ? "" : `${prefix}/` });
    }
    this.grantReads(reads);

    const keyArns = [...new Set(props.sources.flatMap((s) => (s.kmsKeyArn ? [s.kmsKeyArn] : [])))];
    keyArns.forEach((arn, i) => {
      kms.Key.fromKeyArn(this, `SourceKey${i}`, arn).grantDecrypt(this.role);
    });

    // The provider Lambda is one per stack: only its creator's log group would be used.
    const logGroup = stack.node.tryFindChild(PROVIDER_ID)
      ? undefined
      : new logs.LogGroup(this, "AssociationLogs", {
          retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        });
    for (const cluster of importing) {
      this.associate(cluster.clusterIdentifier, logGroup);
    }
    acknowledgeProvider(stack);
  }

  /** Prefix-scoped reads (./s3-prefix-read.ts), with the wildcard findings cdk-nag raises acknowledged by name. */
  private grantReads(reads: readonly PrefixRead[]): void {
    if (reads.length === 0) return;
    const read = prefixReadStatements(Stack.of(this), reads, { objectActions: ["s3:GetObject"] });
    for (const list of read.lists) this.role.addToPrincipalPolicy(list);
    this.role.addToPrincipalPolicy(read.objects);
    for (const [name, prefixes] of read.prefixes)
      for (const p of prefixes)
        acknowledgeWildcard(
          this.role,
          Stack.of(this),
          s3ArnOf(Stack.of(this), name, `${p}*`),
          `Aurora may import any object under s3://${name}/${p} (a realm source or s3_temp); a prefix wildcard is the narrowest ARN for that.`,
        );
  }

  /** `rds:AddRoleToDBCluster` on create/update, `rds:RemoveRoleFromDBCluster` on delete. */
  private associate(clusterIdentifier: string, logGroup: logs.ILogGroup | undefined): void {
    const clusterArn = clusterArnFor(Stack.of(this), clusterIdentifier);
    const parameters = {
      DBClusterIdentifier: clusterIdentifier,
      RoleArn: this.role.roleArn,
      FeatureName: S3_IMPORT_FEATURE,
    };
    const physicalResourceId = cr.PhysicalResourceId.of(
      `${clusterIdentifier}/${S3_IMPORT_FEATURE}`,
    );
    const add: cr.AwsSdkCall = {
      service: "RDS",
      action: "addRoleToDBCluster",
      parameters,
      physicalResourceId,
      ignoreErrorCodesMatching: ALREADY_ASSOCIATED,
    };
    new cr.AwsCustomResource(this, `Associate-${clusterIdentifier}`, {
      onCreate: add,
      onUpdate: add,
      onDelete: {
        service: "RDS",
        action: "removeRoleFromDBCluster",
        parameters,
        physicalResourceId,
        ignoreErrorCodesMatching: NOT_ASSOCIATED,
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ["rds:AddRoleToDBCluster", "rds:RemoveRoleFromDBCluster"],
          resources: [clusterArn],
        }),
        new iam.PolicyStatement({
          actions: ["iam:PassRole"],
          resources: [this.role.roleArn],
          conditions: { StringEquals: { "iam:PassedToService": "rds.amazonaws.com" } },
        }),
      ]),
      // The Lambda runtime's SDK has both calls; no npm install at deploy time.
      installLatestAwsSdk: false,
      ...(logGroup ? { logGroup } : {}),
    });
  }
}

/**
 * `arn:<partition>:rds:<region>:<account>:cluster:<identifier>`, the identifier in lower case:
 * RDS stores cluster identifiers so, and ARN conditions and resources compare case-sensitively.
 */
export function clusterArnFor(stack: Stack, clusterIdentifier: string): string {
  return stack.formatArn({
    service: "rds",
    resource: "cluster",
    resourceName: clusterIdentifier.toLowerCase(),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** `lava-<realm>-aurora-s3-import`. */
export function roleNameFor(realmName: string): string {
  return `lava-${realmName}-aurora-s3-import`;
}

function validate(props: AuroraS3ImportProps): void {
  const fail = (what: string, value: unknown) => {
    throw new Error(`AuroraS3Import: ${what}, got ${JSON.stringify(value)}`);
  };
  if (!REALM_NAME.test(props.realmName) || roleNameFor(props.realmName).length > 64) {
    fail(
      "realmName must be lower-case letters, digits and - (at most 40 characters)",
      props.realmName,
    );
  }
  const locations = [...props.sources, ...(props.temp ? [props.temp] : [])];
  for (const loc of locations) {
    if (!Token.isUnresolved(loc.bucket) && !BUCKET_NAME.test(loc.bucket)) {
      fail("expected an S3 bucket name", loc.bucket);
    }
    // IAM would read * and ? in a resource ARN as wildcards.
    if (loc.prefix !== undefined && /[*?]/.test(loc.prefix)) {
      fail(`prefix of bucket ${loc.bucket} must not contain * or ?`, loc.prefix);
    }
  }
  for (const s of props.sources) {
    if (
      s.kmsKeyArn !== undefined &&
      !Token.isUnresolved(s.kmsKeyArn) &&
      !KMS_KEY_ARN.test(s.kmsKeyArn)
    ) {
      fail(`kmsKeyArn of bucket ${s.bucket} must be a KMS key ARN`, s.kmsKeyArn);
    }
  }
  const seen = new Set<string>();
  for (const c of props.clusters) {
    if (c.clusterIdentifier.length > 63 || !CLUSTER_IDENTIFIER.test(c.clusterIdentifier)) {
      fail("expected a DB cluster identifier", c.clusterIdentifier);
    }
    // RDS ignores case in identifiers: `Sales` and `sales` are one cluster.
    const key = c.clusterIdentifier.toLowerCase();
    if (seen.has(key)) fail("duplicate cluster", c.clusterIdentifier);
    seen.add(key);
  }
  if (!props.clusters.some((c) => c.s3Import)) {
    fail(
      "at least one cluster must have s3Import (the role trusts RDS only for those)",
      props.clusters,
    );
  }
}

/**
 * The AwsCustomResource provider is one Lambda per stack, created by CDK: its
 * managed policy cannot be replaced.
 */
function acknowledgeProvider(stack: Stack): void {
  const provider = stack.node.tryFindChild(PROVIDER_ID);
  if (!provider) return;
  acknowledge(
    provider,
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "CDK's AwsCustomResource provider Lambda attaches AWSLambdaBasicExecutionRole (log writing only); the role is not configurable.",
  );
}
