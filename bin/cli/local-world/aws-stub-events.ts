/**
 * An EventBridge stub in AWS JSON 1.1 (`AWSEvents.PutEvents`): every well-formed entry is
 * recorded; a bad entry fails alone, inside a 200 answer, as EventBridge reports it
 * (FailedEntryCount and ErrorCode/ErrorMessage in that entry's place). Any bus name is
 * accepted: buses, rules and targets are not modeled.
 */
import { randomUUID } from "node:crypto";
import { ApiError, type JsonHandler } from "./aws-stub-common.js";

/** One event PutEvents accepted. */
export interface StubEvent {
  /** The EventId PutEvents answered. */
  eventId: string;
  /** Event bus name (the name part of an ARN); "default" when EventBusName is unset. */
  bus: string;
  source: string;
  detailType: string;
  /** Detail, parsed (EventBridge requires a JSON object). */
  detail: Record<string, unknown>;
  resources: string[];
}

/** PutEvents' limit on entries per call. */
const MAX_ENTRIES = 10;

/** The result entry of a refused entry. */
function failed(code: string, message: string): { ErrorCode: string; ErrorMessage: string } {
  return { ErrorCode: code, ErrorMessage: message };
}

const required = (field: string) =>
  failed(
    "InvalidArgument",
    `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  );

function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One entry: recorded and answered with an EventId, or answered with its error. */
function putEntry(entry: Record<string, unknown>, events: StubEvent[]): Record<string, string> {
  const text = (field: string): string => {
    const value = entry[field];
    return typeof value === "string" ? value : "";
  };
  const source = text("Source");
  const detailType = text("DetailType");
  if (source === "") return required("Source");
  if (detailType === "") return required("DetailType");
  if (text("Detail") === "") return required("Detail");
  // "aws." sources belong to AWS services; a customer may not send them.
  if (source.startsWith("aws.")) {
    return failed("NotAuthorizedForSourceException", "Not authorized for the source.");
  }
  const detail = parseDetail(text("Detail"));
  if (!detail) return failed("MalformedDetail", "Detail is malformed.");
  const bus = text("EventBusName").split("event-bus/").pop() || "default";
  const resources = Array.isArray(entry.Resources) ? entry.Resources.map(String) : [];
  const eventId = randomUUID();
  events.push({ eventId, bus, source, detailType, detail, resources });
  return { EventId: eventId };
}

/** PutEvents, appending accepted events to `events`. */
export function eventsHandlers(events: StubEvent[]): Record<string, JsonHandler> {
  return {
    PutEvents(body) {
      const entries = Array.isArray(body.Entries) ? body.Entries : [];
      if (entries.length < 1 || entries.length > MAX_ENTRIES) {
        const bound =
          entries.length < 1
            ? "greater than or equal to 1"
            : `less than or equal to ${MAX_ENTRIES}`;
        throw new ApiError(
          "ValidationException",
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: ` +
            `Member must have length ${bound}`,
        );
      }
      const results = entries.map((e: unknown) =>
        putEntry(e !== null && typeof e === "object" ? (e as Record<string, unknown>) : {}, events),
      );
      return {
        FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
        Entries: results,
      };
    },
  };
}
