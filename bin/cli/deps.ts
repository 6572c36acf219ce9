/** The production services the CLI injects into domain code (same as the functions'). */
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import type { ResolveDeps } from "../../lambda/connectors/resolve";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";

/** SSM/Secrets Manager through Powertools, IAM tokens through the RDS signer. */
export function defaultResolveDeps(): ResolveDeps {
  return { store: new AwsSecretStore(), signToken: rdsTokenSigner() };
}
