/** `lava-aurora check`: validate a realm file, and show when scheduled jobs run next. */

import { formatWall } from "../../lambda/shared/zoned";
import { nextRuns, scheduledJobs } from "../../lambda/spec/schedule";
import { EXIT, reportError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

export async function checkCommand(flags: RealmFlags, now = new Date()): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
    process.stdout.write(
      `${realm.source}: ok (realm ${realm.name}: ${n(realm.connections.length, "connection")}, ${n(realm.jobs.length, "job")}, ${n(realm.triggers.length, "trigger")})\n`,
    );
    // What the deployed schedules will do (docs/schedules.md §4), in the realm's time zone.
    const zone = realm.top.timezone ?? "UTC";
    for (const { job, entries } of scheduledJobs(realm.jobs, zone)) {
      const runs = nextRuns(entries, now, 5).map((d) => formatWall(zone, d.getTime()));
      process.stdout.write(
        runs.length > 0
          ? `job ${job.job_id}: next runs (${zone}): ${runs.join(", ")}\n`
          : `job ${job.job_id}: no runs to come (its schedule's windows are over)\n`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
