/**
 * The validated realm as it travels inside a function bundle (docs/realm-files.md §5: SSM
 * String parameters are too small for it). The stack encodes it at synth
 * time; the handler decodes it at cold start.
 */
import type { Realm } from "./realm";

/** What a bundle carries: the realm, and the PEM of its `ssl_ca_file` (a local path means nothing on Lambda). */
export interface RealmBundle {
  readonly realm: Realm;
  readonly caPem?: string;
}

/** Base64 of the JSON: safe to pass through esbuild's `--define` on a shell command line. */
export function encodeRealmBundle(bundle: RealmBundle): string {
  return Buffer.from(JSON.stringify(bundle), "utf8").toString("base64");
}

export function decodeRealmBundle(encoded: string): RealmBundle {
  return JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as RealmBundle;
}
