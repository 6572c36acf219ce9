/**
 * Verified TLS for database sessions (docs/connections.md §5): the CA bundle is the realm's
 * `ssl_ca_file`, else the file named by NODE_EXTRA_CA_CERTS. There is no way
 * to turn verification off.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { rootCertificates } from "node:tls";
import { ConnectionConfigError } from "../shared/errors";

const bundles = new Map<string, string>();

/** The CA bundle file for a realm, if any. */
export function caBundleFile(
  realmCaFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return realmCaFile ?? (env.NODE_EXTRA_CA_CERTS || undefined);
}

function readBundle(file: string): string {
  let pem = bundles.get(file);
  if (pem === undefined) {
    try {
      pem = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConnectionConfigError(
        `cannot read the CA bundle ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    bundles.set(file, pem);
  }
  return pem;
}

/**
 * node `tls` options for pg: Node's root store plus the bundle, chain and host
 * name verified (node checks IP SANs when the host is an address).
 */
export function tlsOptions(caFile: string | undefined): ConnectionOptions {
  const ca = caFile === undefined ? undefined : [...rootCertificates, readBundle(caFile)];
  return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
}
