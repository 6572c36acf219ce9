/** `lava-aurora check`: validate a realm file. */
import { EXIT, reportError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

export async function checkCommand(flags: RealmFlags): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
    process.stdout.write(
      `${realm.source}: ok (realm ${realm.name}: ${n(realm.connections.length, "connection")}, ${n(realm.jobs.length, "job")}, ${n(realm.triggers.length, "trigger")})\n`,
    );
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
