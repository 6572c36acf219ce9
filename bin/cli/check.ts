/** `lava-aurora check [--json]`: validate a realm file, and show when scheduled jobs run next. */

import { SpecError } from "../../lambda/shared/errors";
import { formatWall } from "../../lambda/shared/zoned";
import { nextRuns, scheduledJobs } from "../../lambda/spec/schedule";
import { EXIT, reportError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

/** What `check --json` prints: the summary, or the problems (then exit 2). */
export type CheckReport =
  | {
      readonly ok: true;
      readonly source: string;
      readonly realm: string;
      readonly connections: number;
      readonly jobs: number;
      readonly triggers: number;
      readonly warnings: readonly string[];
      /** Next runs of scheduled jobs, as wall-clock times in the realm's time zone. */
      readonly schedules: { job_id: string; timezone: string; next_runs: string[] }[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

export async function checkCommand(
  flags: RealmFlags & { readonly json?: boolean },
  now = new Date(),
): Promise<number> {
  const out = process.stdout;
  try {
    const realm = await loadRealm(flags);
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
    // What the deployed schedules will do (docs/schedules.md §4), in the realm's time zone.
    const zone = realm.top.timezone ?? "UTC";
    const schedules = scheduledJobs(realm.jobs, zone).map(({ job, entries }) => ({
      job_id: job.job_id,
      timezone: zone,
      next_runs: nextRuns(entries, now, 5).map((d) => formatWall(zone, d.getTime())),
    }));
    if (flags.json) {
      const report: CheckReport = {
        ok: true,
        source: realm.source,
        realm: realm.name,
        connections: realm.connections.length,
        jobs: realm.jobs.length,
        triggers: realm.triggers.length,
        warnings: realm.warnings,
        schedules,
      };
      out.write(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT.ok;
    }
    out.write(
      `${realm.source}: ok (realm ${realm.name}: ${n(realm.connections.length, "connection")}, ${n(realm.jobs.length, "job")}, ${n(realm.triggers.length, "trigger")})\n`,
    );
    for (const s of schedules) {
      out.write(
        s.next_runs.length > 0
          ? `job ${s.job_id}: next runs (${zone}): ${s.next_runs.join(", ")}\n`
          : `job ${s.job_id}: no runs to come (its schedule's windows are over)\n`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    if (flags.json && err instanceof SpecError) {
      const report: CheckReport = { ok: false, problems: err.problems };
      out.write(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT.usage;
    }
    return reportError(err);
  }
}
