/**
 * `lava-aurora trigger`: what the s3trigger function would do for an object
 * (`s3://BUCKET/KEY`) or a raw Lambda event (`--event FILE|-`), in any
 * envelope. `--dry-run` prints the dispatches without any AWS call; by default
 * executions start in the deployed realm; `--local` runs each job here.
 * Replaces lava's s3lambda.sh.
 */
import { readFile } from "node:fs/promises";
import { runJob } from "../../lambda/jobs/run-job";
import { S3_LOCATION } from "../../lambda/shared/s3-objects";
import type { Realm } from "../../lambda/spec/realm";
import { parseSize } from "../../lambda/spec/units";
import { decodeEvent, type ObjectEvent } from "../../lambda/triggers/decode-event";
import { sfnStarter } from "../../lambda/triggers/dispatch";
import { EVENTBRIDGE_FIELDS } from "../../lambda/triggers/event-types";
import { matchTriggers } from "../../lambda/triggers/match";
import { processEvent } from "../../lambda/triggers/process";
import { deployedStateMachineArn } from "./deployed";
import { defaultJobDeps } from "./deps";
import { EXIT, reportError, UsageError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";
import { readSecretInput } from "./secret-input";

export interface TriggerFlags extends RealmFlags {
  size?: string;
  eventType?: string;
  event?: string;
  dryRun?: boolean;
  local?: boolean;
}

/**
 * The EventBridge event S3 would send now for an object and an S3 event type
 * as S3 notifications name it (`ObjectCreated:Put`, `ObjectRemoved:Delete`, …;
 * a notification configuration's `s3:` prefix is fine): the stack's way in.
 */
export function eventBridgeEventFor(
  url: string,
  size: number,
  eventType: string,
  region: string | undefined,
) {
  const m = S3_LOCATION.exec(url);
  if (!m?.[1] || !m[2])
    throw new UsageError(`expected s3://BUCKET/KEY, got ${JSON.stringify(url)}`);
  const fields = EVENTBRIDGE_FIELDS.get(eventType.replace(/^s3:/, ""));
  if (!fields) {
    throw new UsageError(
      `--event-type: S3 sends no EventBridge event for ${JSON.stringify(eventType)}; give one of ${[...EVENTBRIDGE_FIELDS.keys()].join(", ")} (or a raw event with --event)`,
    );
  }
  const deleted = fields.deletionType !== undefined;
  return {
    "detail-type": fields.detailType,
    source: "aws.s3",
    time: new Date().toISOString(),
    region: region ?? "us-east-1",
    detail: {
      bucket: { name: m[1] },
      // Deletions carry no size.
      object: deleted ? { key: m[2] } : { key: m[2], size },
      ...(fields.reason === undefined ? {} : { reason: fields.reason }),
      ...(deleted ? { "deletion-type": fields.deletionType } : {}),
    },
  };
}

async function eventFrom(
  target: string | undefined,
  flags: TriggerFlags,
  realm: Realm,
): Promise<unknown> {
  if (flags.event !== undefined) {
    if (target) throw new UsageError("give s3://BUCKET/KEY or --event, not both");
    const text =
      flags.event === "-"
        ? await readSecretInput(process.stdin, process.stderr)
        : await readFile(flags.event, "utf8");
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--event: not JSON: ${(err as Error).message}`);
    }
  }
  if (!target) throw new UsageError("give s3://BUCKET/KEY or --event FILE|-");
  const size = flags.size === undefined ? 0 : parseSize(flags.size);
  if (size === undefined)
    throw new UsageError(
      `--size: expected a size like 100 or 10KB, got ${JSON.stringify(flags.size)}`,
    );
  return eventBridgeEventFor(
    target,
    size,
    flags.eventType ?? "ObjectCreated:Put",
    realm.top.region,
  );
}

export async function triggerCommand(
  target: string | undefined,
  flags: TriggerFlags,
): Promise<number> {
  try {
    if (flags.dryRun && flags.local)
      throw new UsageError("--dry-run and --local do not go together");
    const realm = await loadRealm(flags);
    const event = await eventFrom(target, flags, realm);
    const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    if (flags.dryRun || flags.local) {
      const batch = decodeEvent(event);
      for (const f of batch.failures)
        process.stderr.write(`lava-aurora: record not decoded: ${f.error}\n`);
      let failed = batch.failures.length > 0;
      // As the function does: a trigger that fails is reported, the others dispatch.
      const dispatches = batch.records.flatMap(({ event: o }: { event: ObjectEvent }) => {
        const match = matchTriggers(realm, o);
        for (const f of match.failures) {
          process.stderr.write(
            `lava-aurora: s3://${o.bucket}/${o.key}: trigger ${f.trigger_id} not dispatched: ${f.error.name}: ${f.error.message}\n`,
          );
          failed = true;
        }
        return match.dispatches;
      });
      if (flags.dryRun) {
        out(dispatches);
        return failed ? EXIT.failed : EXIT.ok;
      }
      const deps = defaultJobDeps();
      const results = [];
      for (const d of dispatches) {
        results.push(
          await runJob(
            realm,
            {
              job_id: d.job_id,
              parameters: d.parameters,
              globals: d.globals,
              literal_parameters: d.literal_parameters,
            },
            deps,
          ),
        );
      }
      out(results);
      return results.some((r) => r.status === "failed") || failed ? EXIT.failed : EXIT.ok;
    }
    const arn = await deployedStateMachineArn(realm);
    const outcome = await processEvent(realm, event, sfnStarter(arn));
    for (const f of outcome.failures) process.stderr.write(`lava-aurora: ${f.error}\n`);
    out(
      outcome.dispatched.map(({ trigger_id, job_id, execution_arn, duplicate }) => ({
        trigger_id,
        job_id,
        execution_arn,
        duplicate,
      })),
    );
    return outcome.failures.length ? EXIT.failed : EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
