/** s3trigger specs (docs/triggers.md §1). */
import { z } from "zod";
import { bool, bucketName, duration, mapping, objectId, size, textOrList } from "./fields";

export const triggerSchema = z.strictObject({
  trigger_id: objectId("trigger id"),
  bucket: bucketName(),
  prefix: z
    .string({ error: "expected a key prefix or *" })
    .min(1, { error: "expected a key prefix or *" })
    .refine((p) => !p.endsWith("/"), {
      error: "expected a key prefix without a trailing / (levels are path segments)",
    }),
  job_id: textOrList("a job id or template"),
  enabled: bool(),
  description: z.string({ error: "expected a string" }).optional(),
  owner: z.string({ error: "expected a string" }).optional(),
  parameters: mapping().optional(),
  globals: mapping().optional(),
  jinja: bool().optional(),
  delay: duration(15 * 60_000, "15m").optional(),
  if_fnmatch: textOrList("a glob").optional(),
  if_not_fnmatch: textOrList("a glob").optional(),
  if_size_gt: size().optional(),
  if_not_size_gt: size().optional(),
  if_event_type: textOrList("an event type glob").optional(),
  if_not_event_type: textOrList("an event type glob").optional(),
});

export type TriggerSpec = z.infer<typeof triggerSchema>;
