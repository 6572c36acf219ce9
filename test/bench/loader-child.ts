/**
 * The benchmark's job process: runs a job through the real runner when the
 * parent asks (IPC), timing each run in-process (process start excluded), and
 * reports its own peak RSS at the end.
 */

import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { runJob } from "../../lambda/jobs/run-job";
import { s3ClientFactory } from "../../lambda/shared/s3-clients";
import { validateRealm } from "../../lambda/spec/validate";

interface Request {
  readonly realm: unknown;
  readonly jobId: string;
  readonly parameters?: Record<string, unknown>;
}

const deps = {
  resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner() },
  s3: s3ClientFactory(),
};

process.on("message", async (msg: Request | "exit") => {
  if (msg === "exit") {
    process.send?.({ maxRssKiB: process.resourceUsage().maxRSS });
    process.disconnect();
    return;
  }
  const realm = validateRealm(msg.realm, "bench realm");
  const t0 = performance.now();
  const parameters = msg.parameters ?? {};
  const result = await runJob(realm, { job_id: msg.jobId, parameters }, deps);
  const ms = performance.now() - t0;
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  // A load's rows, or a SELECT's (sqli: its one statement's).
  const rows = result.rows ?? result.statements?.[0]?.rows;
  // Fan-out loads: how the load was split, and its publish event ("published: N rows in X ms …").
  // (Event lines start with "+<seconds>s ".)
  const published = result.events.find((e) => e.includes(" published: "));
  // Fan-out drop loads: the keys built once the items were in ("built PRIMARY KEY (id) on … in N ms, …").
  const keysMs = /^\+[\d.]+s built .* in (\d+) ms, before the table's lock$/.exec(
    result.events.find((e) => / built .* before the table's lock$/.test(e)) ?? "",
  )?.[1];
  process.send?.({
    ms,
    status: result.status,
    rows,
    error: result.error,
    maxRssMiB,
    fan_out: result.fan_out,
    published,
    keys_ms: keysMs === undefined ? undefined : Number(keysMs),
    // Quarantine and merge loads: rows set aside, and what the merge did.
    rows_rejected: result.rows_rejected,
    merged: result.merged,
  });
});
