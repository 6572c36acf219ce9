/**
 * Verified TLS for database sessions (docs/connections.md §5): the CA bundle is the realm's
 * `ssl_ca_file`, else the file named by NODE_EXTRA_CA_CERTS. There is no way
 * to turn verification off.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions, SecureContext } from "node:tls";
import { createSecureContext, rootCertificates } from "node:tls";
import { ConnectionConfigError } from "../shared/errors";

/**
 * One secure context per CA bundle file, for the process's life: parsing Node's
 * roots and the bundle costs 12–13 ms of CPU, and a fan-out's items, a pipeline's
 * statements and a warm Lambda connect many times.
 */
const contexts = new Map<string, SecureContext>();

/** The CA bundle file for a realm, if any. */
export function caBundleFile(
  realmCaFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return realmCaFile ?? (env.NODE_EXTRA_CA_CERTS || undefined);
}

function contextFor(file: string): SecureContext {
  let context = contexts.get(file);
  if (context === undefined) {
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConnectionConfigError(
        `cannot read the CA bundle ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    context = createSecureContext({ ca: [...rootCertificates, pem] });
    contexts.set(file, context);
  }
  return context;
}

/**
 * node `tls` options for pg: Node's root store plus the bundle, chain and host
 * name verified (node checks IP SANs when the host is an address).
 */
export function tlsOptions(caFile: string | undefined): ConnectionOptions {
  return {
    rejectUnauthorized: true,
    ...(caFile === undefined ? {} : { secureContext: contextFor(caFile) }),
  };
}
