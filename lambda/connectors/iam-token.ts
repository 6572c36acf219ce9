/**
 * IAM auth tokens for Aurora/RDS (docs/connections.md §6): signed locally, no AWS
 * call, a fresh one per connection; only the AWS credentials are cached (by
 * the SDK's memoized default provider chain).
 */
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";

/** What a token is signed for: exactly what the server will check. */
export interface TokenRequest {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly region: string;
}

export type TokenSigner = (request: TokenRequest) => Promise<string>;

let defaultCredentials: AwsCredentialIdentityProvider | undefined;

/** A signer using `@aws-sdk/rds-signer` and the default credential chain (memoized). */
export function rdsTokenSigner(credentials?: AwsCredentialIdentityProvider): TokenSigner {
  return async ({ host, port, user, region }) => {
    const [{ Signer }, { fromNodeProviderChain }] = await Promise.all([
      import("@aws-sdk/rds-signer"),
      import("@aws-sdk/credential-providers"),
    ]);
    defaultCredentials ??= fromNodeProviderChain();
    const signer = new Signer({
      hostname: host,
      port,
      username: user,
      region,
      credentials: credentials ?? defaultCredentials,
    });
    return signer.getAuthToken();
  };
}

const RDS_HOST = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/;

/**
 * The region to sign for: the one in an RDS endpoint name, else the realm's,
 * else the SDK's environment (AWS_REGION, AWS_DEFAULT_REGION).
 */
export function signingRegion(
  host: string,
  realmRegion: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return (
    RDS_HOST.exec(host)?.[1] ??
    realmRegion ??
    (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined)
  );
}
