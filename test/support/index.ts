/** Reusable test harness: local PostgreSQL clusters, a test PKI, AWS API stubs and local S3. */

export * from "../../bin/cli/local-world/aws-s3-standin.js";
export * from "../../bin/cli/local-world/aws-stub-common.js";
export * from "../../bin/cli/local-world/aws-stub-secrets.js";
export * from "../../bin/cli/local-world/aws-stub-ssm.js";
export * from "../../bin/cli/local-world/aws-stub-sts.js";
export * from "../../bin/cli/local-world/aws-stubs.js";
export * from "../../bin/cli/local-world/pg-cluster.js";
export * from "../../bin/cli/local-world/s3.js";
export * from "../../bin/cli/local-world/tls.js";
export * from "./rejection.js";
export * from "./use-aws-stub.js";
