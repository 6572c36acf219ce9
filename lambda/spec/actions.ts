/**
 * Job actions (docs/actions.md §1): `on_success`, `on_fail`, `on_retry` lists,
 * on a job or the realm (a job's list replaces the realm's for that event), with
 * lava's fields for the action types run here: sns, sqs, event, log, dispatch.
 * lava's other types (email, slack, state) are accepted with a warning that says
 * they are not run here.
 */
import { z } from "zod";
import { duration, mapping, text, textList } from "./fields";

export const ACTION_EVENTS = ["on_success", "on_fail", "on_retry"] as const;
export type ActionEvent = (typeof ACTION_EVENTS)[number];

/** lava's action types that do not run here (no meaning without lava's services). */
export const UNSUPPORTED_ACTIONS = ["email", "slack", "state"] as const;

const message = () =>
  z.union([z.string(), mapping()], { error: "expected a string or a mapping (sent as JSON)" });
/** lava's `nnX` delays: a message's at most 15 minutes (SQS's limit); a dispatch's up to 23h (a Wait state). */
const delay = () => duration(15 * 60_000, "15m").optional();
const dispatchDelay = () => duration(23 * 3600_000, "23h").optional();

export const actionSchema = z.discriminatedUnion(
  "action",
  [
    z.strictObject({
      action: z.literal("sns"),
      topic: text("an SNS topic ARN").regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/,
        {
          error: "expected an SNS topic ARN",
        },
      ),
      message: message(),
      subject: z.string({ error: "expected a string" }).optional(),
    }),
    z.strictObject({
      action: z.literal("sqs"),
      queue: text("a queue name or URL"),
      message: message(),
      delay: delay(),
      group_id: z.string({ error: "expected a string" }).optional(),
      dedup_id: z.string({ error: "expected a string" }).optional(),
    }),
    z.strictObject({
      action: z.literal("event"),
      detail_type: z.string({ error: "expected a string" }).optional(),
      detail: message().optional(),
      event_bus: z.string({ error: "expected an event bus name" }).optional(),
      resources: textList("a list of resource ARNs").optional(),
      source: z.string({ error: "expected a string" }).optional(),
    }),
    z.strictObject({
      action: z.literal("log"),
      message: z.string({ error: "expected a string" }),
    }),
    z.strictObject({
      action: z.literal("dispatch"),
      job_id: text("a job id or template"),
      delay: dispatchDelay(),
      parameters: mapping().optional(),
    }),
    // lava's other types: kept (a pasted spec validates), never run, warned about.
    z.looseObject({ action: z.enum(UNSUPPORTED_ACTIONS) }),
  ],
  { error: "expected an action: sns, sqs, event, log or dispatch (or lava's email, slack, state)" },
);

export type ActionSpec = z.infer<typeof actionSchema>;

/** A list of actions. */
export const actionList = () =>
  z.array(actionSchema, { error: "expected a list of actions" }).optional();

/** The three action lists as job and realm fields. */
export const actionFields = {
  on_success: actionList(),
  on_fail: actionList(),
  on_retry: actionList(),
};

/** Warnings for actions that will not run here, one per action. */
export function unsupportedActionWarnings(at: string, spec: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const event of ACTION_EVENTS) {
    const list = spec[event];
    if (!Array.isArray(list)) continue;
    list.forEach((a, i) => {
      const type = (a as { action?: unknown } | null)?.action;
      if ((UNSUPPORTED_ACTIONS as readonly unknown[]).includes(type))
        out.push(`${at}${event}[${i}]: action ${String(type)} is lava's, not run here: ignored`);
    });
  }
  return out;
}
