/** S3 clients for job runs: the SDK's default chain, or an `aws` connection's credentials. */
import { S3Client } from "@aws-sdk/client-s3";
import type { AwsCredentialIdentity } from "@aws-sdk/types";

/** Builds S3 clients; `credentials` come from an `aws` connection when the job names one. */
export type S3ClientFactory = (options: {
  region?: string;
  credentials?: () => Promise<AwsCredentialIdentity>;
}) => S3Client;

/**
 * A factory that reuses one client per region for the default credentials
 * (a warm function keeps its connections) and builds a client per call for
 * connection credentials (they are themselves cached by the connection).
 */
export function s3ClientFactory(): S3ClientFactory {
  const shared = new Map<string, S3Client>();
  return ({ region, credentials }) => {
    if (credentials) return new S3Client({ ...(region ? { region } : {}), credentials });
    const key = region ?? "";
    let client = shared.get(key);
    if (!client) {
      client = new S3Client(region ? { region } : {});
      shared.set(key, client);
    }
    return client;
  };
}
