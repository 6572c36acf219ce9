/** Realm selection for CLI commands: `--realm NAME` or `--realm-file FILE`. */
import { resolve } from "node:path";
import { loadRealmFile, realmFileFor } from "../../lambda/spec/load";
import type { Realm } from "../../lambda/spec/realm";
import { UsageError } from "./errors";

/** The realm-selecting flags every command takes. */
export interface RealmFlags {
  realm?: string;
  realmFile?: string;
}

/** Load and validate the realm the flags name; warnings go to stderr. */
export async function loadRealm(
  flags: RealmFlags,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<Realm> {
  let realm: Realm;
  if (flags.realm !== undefined) {
    realm = await loadRealmFile(realmFileFor(flags.realm), { expectedRealm: flags.realm });
  } else if (flags.realmFile !== undefined) {
    realm = await loadRealmFile(resolve(flags.realmFile));
  } else {
    throw new UsageError("give --realm NAME or --realm-file FILE");
  }
  for (const w of realm.warnings) stderr.write(`warning: ${w}\n`);
  return realm;
}
