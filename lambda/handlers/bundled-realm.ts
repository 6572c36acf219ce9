/** The realm a function was built with (esbuild `define` by the realm stack). */
import { writeFileSync } from "node:fs";
import { LavaError } from "../shared/errors";
import type { Realm } from "../spec/realm";
import { decodeRealmBundle } from "../spec/realm-bundle";

declare const __LAVA_REALM__: string | undefined;

/** Where a bundled CA certificate is written for the TLS code, which reads files. */
const CA_PATH = "/tmp/lava-realm-ca.pem";

/** The bundled realm; its CA bundle, if it has one, written to /tmp. Throws in a bundle built without one. */
export function bundledRealm(
  encoded = typeof __LAVA_REALM__ === "undefined" ? undefined : __LAVA_REALM__,
): Realm {
  if (!encoded) {
    throw new LavaError(
      "this bundle carries no realm: build it with the realm stack (define __LAVA_REALM__)",
    );
  }
  const { realm, caPem } = decodeRealmBundle(encoded);
  if (caPem === undefined) return realm;
  writeFileSync(CA_PATH, caPem, { mode: 0o644 });
  return { ...realm, top: { ...realm.top, ssl_ca_file: CA_PATH } };
}
