/** Reusable test harness: local PostgreSQL clusters, a test PKI, AWS API stubs and local S3. */

export * from "./aws-s3-standin.js";
export * from "./aws-stub-common.js";
export * from "./aws-stub-secrets.js";
export * from "./aws-stub-ssm.js";
export * from "./aws-stub-sts.js";
export * from "./aws-stubs.js";
export * from "./pg-cluster.js";
export * from "./rejection.js";
export * from "./s3.js";
export * from "./tls.js";
export * from "./use-aws-stub.js";
