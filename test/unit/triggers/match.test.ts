import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../lambda/shared/templating";
import type { ObjectEvent } from "../../../lambda/triggers/decode-event";
import { inTemp, matchTriggers, prefixLevels } from "../../../lambda/triggers/match";
import { realmOf } from "../../support/realm-fixture";

const JOBS = ["load", "audit", "archive", "sales/load-2026"].map((job_id) => ({
  job_id,
  type: "exe",
  enabled: true,
}));

function trigger(trigger_id: string, extra: Record<string, unknown> = {}) {
  return { trigger_id, bucket: "landing", prefix: "a/b", job_id: "load", enabled: true, ...extra };
}

function realmWith(triggers: Record<string, unknown>[], top: Record<string, unknown> = {}) {
  return realmOf({ jobs: JOBS, s3triggers: triggers, ...top });
}

function objectEvent(overrides: Partial<ObjectEvent> = {}): ObjectEvent {
  return {
    bucket: "landing",
    key: "a/b/c.csv",
    size: 2048,
    etag: "d41d8cd98f00b204e9800998ecf8427e",
    version_id: undefined,
    sequencer: "0055AED6DCD90281E5",
    event_time: "2026-01-31T08:05:09.123Z",
    event_type: "ObjectCreated:Put",
    aws_region: "us-east-1",
    source_ip: "172.16.0.1",
    raw: { eventSource: "aws:s3", eventName: "ObjectCreated:Put" },
    ...overrides,
  };
}

/** The trigger ids that fire for an event. */
function firing(triggers: Record<string, unknown>[], event = objectEvent()): string[] {
  return matchTriggers(realmWith(triggers), event).dispatches.map((d) => d.trigger_id);
}

/** The dispatches of an event that no trigger fails. */
function dispatchesOf(realm: ReturnType<typeof realmWith>, event = objectEvent()) {
  const { dispatches, failures } = matchTriggers(realm, event);
  expect(failures).toEqual([]);
  return dispatches;
}

describe("prefixLevels", () => {
  it.each([
    ["a/b/c.csv", ["a/b/c.csv", "a/b", "a", "*"]],
    ["c.csv", ["c.csv", "*"]],
    ["a//b.csv", ["a//b.csv", "a", "*"]],
    ["dir/", ["dir/", "dir", "*"]],
    ["/lead.csv", ["/lead.csv", "*"]],
  ])("lists the levels of %j, most specific first", (key, levels) => {
    expect(prefixLevels(key)).toEqual(levels);
  });
});

describe("inTemp", () => {
  const realm = realmWith([], { s3_temp: "s3://landing/lava/tmp" });

  it("is true for objects under s3_temp", () => {
    expect(inTemp(realm, "landing", "lava/tmp/load/run-1/x.csv.gz")).toBe(true);
  });

  it("is false for another bucket, a sibling prefix, or the prefix's look-alike", () => {
    expect(inTemp(realm, "other", "lava/tmp/x")).toBe(false);
    expect(inTemp(realm, "landing", "lava/other/x")).toBe(false);
    expect(inTemp(realm, "landing", "lava/tmpx/x")).toBe(false);
  });

  it("covers the whole bucket when s3_temp has no prefix", () => {
    expect(inTemp(realmWith([], { s3_temp: "s3://landing" }), "landing", "any/key")).toBe(true);
  });

  it("is false when the realm has no s3_temp", () => {
    expect(inTemp(realmWith([]), "landing", "lava/tmp/x")).toBe(false);
  });
});

describe("matchTriggers: levels", () => {
  it("uses the deepest level with triggers and ignores shallower ones", () => {
    const triggers = [
      trigger("at-a", { prefix: "a" }),
      trigger("at-ab", { prefix: "a/b" }),
      trigger("whole", { prefix: "*" }),
    ];
    expect(firing(triggers)).toEqual(["at-ab"]);
  });

  it("matches a trigger on the full key first", () => {
    const triggers = [trigger("at-ab"), trigger("exact", { prefix: "a/b/c.csv" })];
    expect(firing(triggers)).toEqual(["exact"]);
  });

  it("falls back to a parent level when deeper levels have none", () => {
    expect(firing([trigger("at-a", { prefix: "a" }), trigger("whole", { prefix: "*" })])).toEqual([
      "at-a",
    ]);
  });

  it("uses the whole-bucket trigger only when no other level has any", () => {
    expect(
      firing([trigger("whole", { prefix: "*" }), trigger("elsewhere", { prefix: "x" })]),
    ).toEqual(["whole"]);
  });

  it("does not fall back when every trigger of the level is dropped", () => {
    const triggers = [
      trigger("at-ab-off", { enabled: false }),
      trigger("at-ab-json", { if_fnmatch: "*.json" }),
      trigger("at-a", { prefix: "a" }),
    ];
    expect(firing(triggers)).toEqual([]);
  });

  it("matches on path segments, not string prefixes", () => {
    expect(
      firing([trigger("at-a-b", { prefix: "a/b" })], objectEvent({ key: "a/bc/d.csv" })),
    ).toEqual([]);
  });

  it("considers only triggers of the event's bucket", () => {
    const triggers = [
      trigger("other", { bucket: "other-bucket" }),
      trigger("at-a", { prefix: "a" }),
    ];
    expect(firing(triggers)).toEqual(["at-a"]);
  });

  it("returns nothing when no trigger matches", () => {
    expect(firing([trigger("x", { prefix: "x" })])).toEqual([]);
  });

  it("drops disabled triggers", () => {
    expect(firing([trigger("on"), trigger("off", { enabled: false })])).toEqual(["on"]);
  });

  it("keeps realm order among the triggers of a level", () => {
    expect(firing([trigger("second"), trigger("first")])).toEqual(["second", "first"]);
  });

  it("ignores objects under s3_temp even with a whole-bucket trigger", () => {
    const realm = realmWith([trigger("whole", { prefix: "*" })], {
      s3_temp: "s3://landing/lava/tmp",
    });
    expect(dispatchesOf(realm, objectEvent({ key: "lava/tmp/load/r1/c.csv.gz" }))).toEqual([]);
    expect(dispatchesOf(realm)).toHaveLength(1);
  });
});

describe("matchTriggers: conditions", () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ["if_fnmatch matching", { if_fnmatch: "*.csv" }, true],
    ["if_fnmatch not matching", { if_fnmatch: "*.json" }, false],
    ["if_fnmatch glob crossing /", { if_fnmatch: "a/*.csv" }, true],
    ["if_fnmatch list with a match", { if_fnmatch: ["*.json", "*/c.*"] }, true],
    ["if_fnmatch list without a match", { if_fnmatch: ["*.json", "*.tsv"] }, false],
    ["if_not_fnmatch matching", { if_not_fnmatch: "*.csv" }, false],
    ["if_not_fnmatch not matching", { if_not_fnmatch: "*.json" }, true],
    ["if_not_fnmatch list with a match", { if_not_fnmatch: ["*.json", "*.csv"] }, false],
    ["if_size_gt below the size", { if_size_gt: 2047 }, true],
    ["if_size_gt equal to the size", { if_size_gt: 2048 }, false],
    ["if_size_gt in units below the size", { if_size_gt: "2KB" }, true],
    ["if_size_gt in units above the size", { if_size_gt: "2KiB" }, false],
    ["if_not_size_gt equal to the size", { if_not_size_gt: 2048 }, true],
    ["if_not_size_gt below the size", { if_not_size_gt: "2KB" }, false],
    ["if_not_size_gt above the size", { if_not_size_gt: "1MiB" }, true],
    ["if_event_type glob matching", { if_event_type: "ObjectCreated:*" }, true],
    ["if_event_type glob not matching", { if_event_type: "ObjectRemoved:*" }, false],
    ["if_event_type list with a match", { if_event_type: ["ObjectRemoved:*", "*:Put"] }, true],
    ["if_not_event_type matching", { if_not_event_type: "ObjectCreated:*" }, false],
    ["if_not_event_type not matching", { if_not_event_type: "ObjectRemoved:*" }, true],
    [
      "all conditions holding",
      { if_fnmatch: "*.csv", if_size_gt: "1KB", if_event_type: "*" },
      true,
    ],
    ["one of several conditions failing", { if_fnmatch: "*.csv", if_size_gt: "1MB" }, false],
  ])("%s → fires: %s", (_label, conditions, fires) => {
    expect(firing([trigger("t", conditions)])).toEqual(fires ? ["t"] : []);
  });

  it("matches if_fnmatch against the decoded key", () => {
    const event = objectEvent({ key: "a/b/my file:1.csv" });
    expect(firing([trigger("t", { if_fnmatch: "*/my file:1.csv" })], event)).toEqual(["t"]);
  });

  it("matches S3 notification event names, whichever envelope the event came in", () => {
    const event = objectEvent({ event_type: "ObjectCreated:CompleteMultipartUpload" });
    expect(firing([trigger("t", { if_event_type: "ObjectCreated:*" })], event)).toEqual(["t"]);
    expect(firing([trigger("t", { if_event_type: "ObjectCreated:Put" })], event)).toEqual([]);
    expect(firing([trigger("t", { if_not_event_type: "*:Put" })], event)).toEqual(["t"]);
  });
});

describe("matchTriggers: removal events", () => {
  const REMOVALS = [
    "ObjectRemoved:Delete",
    "ObjectRemoved:DeleteMarkerCreated",
    "LifecycleExpiration:Delete",
    "LifecycleExpiration:DeleteMarkerCreated",
  ];
  /** A deletion: no size, no ETag. */
  const removal = (event_type: string) => objectEvent({ event_type, size: 0, etag: undefined });

  it.each(REMOVALS)("dispatches nothing for %s to triggers without if_event_type", (type) => {
    const triggers = [
      trigger("plain"),
      trigger("globbed", { if_fnmatch: "*.csv" }),
      trigger("not-copies", { if_not_event_type: "ObjectCreated:Copy" }),
    ];
    expect(firing(triggers, removal(type))).toEqual([]);
  });

  it.each<[string, string, boolean]>([
    ["ObjectRemoved:*", "ObjectRemoved:Delete", true],
    ["ObjectRemoved:*", "ObjectRemoved:DeleteMarkerCreated", true],
    ["ObjectRemoved:*", "LifecycleExpiration:Delete", false],
    ["ObjectRemoved:Delete", "ObjectRemoved:Delete", true],
    ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", false],
    ["LifecycleExpiration:*", "LifecycleExpiration:DeleteMarkerCreated", true],
    ["ObjectCreated:*", "ObjectRemoved:Delete", false],
    ["*", "ObjectRemoved:Delete", true],
  ])("with if_event_type %j, dispatches for %s: %s", (pattern, type, fires) => {
    const triggers = [trigger("t", { if_event_type: pattern })];
    expect(firing(triggers, removal(type))).toEqual(fires ? ["t"] : []);
  });

  it("still applies the other conditions to a removal a trigger names", () => {
    const t = trigger("t", { if_event_type: ["ObjectRemoved:*"], if_fnmatch: "*.json" });
    expect(firing([t], removal("ObjectRemoved:Delete"))).toEqual([]);
  });

  it("gives a removal the same template variables, with size 0", () => {
    const t = trigger("t", {
      if_event_type: "ObjectRemoved:*",
      parameters: { what: "{{ info.event_type }} {{ key }} {{ info.size }}" },
    });
    const [dispatch] = dispatchesOf(realmWith([t]), removal("ObjectRemoved:DeleteMarkerCreated"));
    expect(dispatch?.parameters).toEqual({ what: "ObjectRemoved:DeleteMarkerCreated a/b/c.csv 0" });
  });

  it("dispatches other events (restores, tagging) as lava does, without if_event_type", () => {
    expect(firing([trigger("t")], objectEvent({ event_type: "ObjectRestore:Completed" }))).toEqual([
      "t",
    ]);
  });
});

describe("matchTriggers: dispatches", () => {
  it("dispatches one job with empty parameters, globals and no delay by default", () => {
    expect(matchTriggers(realmWith([trigger("t")]), objectEvent())).toEqual({
      dispatches: [
        {
          trigger_id: "t",
          job_id: "load",
          parameters: {},
          globals: {},
          literal_parameters: [],
          delay: 0,
        },
      ],
      failures: [],
    });
  });

  it("dispatches each job of a job id list, in list order", () => {
    const dispatches = dispatchesOf(
      realmWith([trigger("t", { job_id: ["audit", "load"] }), trigger("u", { job_id: "archive" })]),
    );
    expect(dispatches.map((d) => [d.trigger_id, d.job_id])).toEqual([
      ["t", "audit"],
      ["t", "load"],
      ["u", "archive"],
    ]);
  });

  it("renders parameters and globals with bucket, key, info, event and realm", () => {
    const t = trigger("t", {
      parameters: {
        file: "s3://{{ bucket }}/{{ key }}",
        name: "{{ key.split('/')[-1] }}",
        day: "{{ info.event_time.strftime('%Y%m%d') }}",
        at: "{{ info.event_time.isoformat() }}",
        size: "{{ info.size }}",
        type: "{{ info.event_type }}",
        where: "{{ info.aws_region }} {{ info.source_ip }} {{ info.bucket }}/{{ info.key }}",
        from: "{{ event.eventSource }}",
        base: "{{ utils.basename(key) }}",
        nested: [{ realm: "{{ realm }}" }, 3, true],
      },
      globals: { table: "stage_{{ key.split('/')[-1].split('.')[0] }}" },
    });
    const [dispatch] = dispatchesOf(realmWith([t]));
    expect(dispatch?.parameters).toEqual({
      file: "s3://landing/a/b/c.csv",
      name: "c.csv",
      day: "20260131",
      at: "2026-01-31T08:05:09.123000+00:00",
      size: "2048",
      type: "ObjectCreated:Put",
      where: "us-east-1 172.16.0.1 landing/a/b/c.csv",
      from: "aws:s3",
      base: "c.csv",
      nested: [{ realm: "dev" }, 3, true],
    });
    expect(dispatch?.globals).toEqual({ table: "stage_c" });
  });

  it("renders templated job ids", () => {
    const t = trigger("t", {
      job_id: ["sales/load-{{ info.event_time.strftime('%Y') }}", "audit"],
    });
    expect(dispatchesOf(realmWith([t])).map((d) => d.job_id)).toEqual(["sales/load-2026", "audit"]);
  });

  it("keeps templates literally with jinja: false", () => {
    const t = trigger("t", {
      jinja: false,
      parameters: { file: "{{ key }}", list: ["{% raw %}"] },
      globals: { g: "{{ bucket }}" },
    });
    expect(dispatchesOf(realmWith([t]))).toEqual([
      {
        trigger_id: "t",
        job_id: "load",
        parameters: { file: "{{ key }}", list: ["{% raw %}"] },
        globals: { g: "{{ bucket }}" },
        // Not rendered here, so the job renders them, as lava's job does.
        literal_parameters: [],
        delay: 0,
      },
    ]);
  });

  it("gives each dispatch its own copy of parameters", () => {
    const realm = realmWith([
      trigger("t", { job_id: ["load", "audit"], jinja: false, parameters: { a: { b: 1 } } }),
    ]);
    const [first, second] = dispatchesOf(realm);
    (first?.parameters.a as { b: number }).b = 2;
    expect(second?.parameters).toEqual({ a: { b: 1 } });
    expect(realm.triggers[0]?.parameters).toEqual({ a: { b: 1 } });
  });

  it.each<[unknown, number]>([
    ["0s", 0],
    ["30s", 30],
    ["5m", 300],
    ["15m", 900],
    [45, 45],
    ["1.5s", 2],
  ])("reads delay %j as %d seconds", (delay, seconds) => {
    const [dispatch] = dispatchesOf(realmWith([trigger("t", { delay })]));
    expect(dispatch?.delay).toBe(seconds);
  });

  it("reports a TemplateError naming the trigger and field", () => {
    const t = trigger("bad", { parameters: { x: { y: "{{ key.nope() }}" } } });
    const { dispatches, failures } = matchTriggers(realmWith([t]), objectEvent());
    expect(dispatches).toEqual([]);
    expect(failures.map((f) => f.trigger_id)).toEqual(["bad"]);
    expect(failures[0]?.error).toBeInstanceOf(TemplateError);
    expect(failures[0]?.error.message).toMatch(/^trigger bad: parameters\.x\.y: template error/);
  });

  it("names the job id in a job id template error, and dispatches none of that trigger's jobs", () => {
    const t = trigger("bad", { job_id: ["load", "{{ nope( }}"] });
    const { dispatches, failures } = matchTriggers(realmWith([t]), objectEvent());
    expect(dispatches).toEqual([]);
    expect(failures[0]?.error.message).toMatch(/^trigger bad: job_id\[1\]: /);
  });

  it("fails only the trigger whose template fails: the other triggers of the object still dispatch", () => {
    const realm = realmWith([
      trigger("first", { parameters: { key: "{{ key }}" } }),
      trigger("bad", { job_id: "audit", globals: { g: "{{ key.nope() }}" } }),
      trigger("last", { job_id: ["archive", "audit"] }),
    ]);
    const { dispatches, failures } = matchTriggers(realm, objectEvent());
    expect(dispatches.map((d) => [d.trigger_id, d.job_id])).toEqual([
      ["first", "load"],
      ["last", "archive"],
      ["last", "audit"],
    ]);
    expect(failures).toEqual([{ trigger_id: "bad", error: expect.any(TemplateError) }]);
    expect(failures[0]?.error.message).toMatch(/^trigger bad: globals\.g: template error/);
  });

  it("renders nothing when no trigger fires", () => {
    const t = trigger("bad", { parameters: { x: "{{ nope( }}" }, if_fnmatch: "*.json" });
    expect(matchTriggers(realmWith([t]), objectEvent())).toEqual({ dispatches: [], failures: [] });
  });
});
