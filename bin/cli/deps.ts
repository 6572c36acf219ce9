/** The production services the CLI injects into domain code (same as the functions'). */
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import type { ResolveDeps } from "../../lambda/connectors/resolve-connection";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import type { JobDeps } from "../../lambda/jobs/types";
import { s3ClientFactory } from "../../lambda/shared/s3-clients";

/** SSM/Secrets Manager through Powertools, IAM tokens through the RDS signer. */
export function defaultResolveDeps(): ResolveDeps {
  return { store: new AwsSecretStore(), signToken: rdsTokenSigner() };
}

/** Everything a job run needs, with the SDK's default credential, region and endpoint chain. */
export function defaultJobDeps(): JobDeps {
  return { resolve: defaultResolveDeps(), s3: s3ClientFactory() };
}
