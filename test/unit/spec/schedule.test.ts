/**
 * A job's `schedule` (docs/schedules.md): lava's forms and errors, the crontab
 * fields as cronie reads them, the conversion to Scheduler's cron() checked
 * against an evaluator written from AWS's documentation, windows, time zones, DST.
 */
import { describe, expect, it } from "vitest";
import { timeZoneProblem } from "../../../lambda/shared/zoned";
import { parseCron, toSchedulerCrons } from "../../../lambda/spec/cron";
import {
  nextRuns,
  parseSchedule,
  readSchedule,
  type ScheduleEntry,
  scheduleMessages,
  schedulerPlans,
} from "../../../lambda/spec/schedule";
import { problemsOf, realmDoc, realmOf } from "../../support/realm-fixture";
import { schedulerRuns } from "../../support/scheduler-cron";

const job = (extra: Record<string, unknown>) => ({
  job_id: "ops/vacuum",
  type: "exe",
  enabled: true,
  payload: "ops/vacuum.sh",
  ...extra,
});
const iso = (ds: readonly Date[]) => ds.map((d) => d.toISOString().slice(0, 16));
const messages = (value: unknown) => scheduleMessages(readSchedule(value).problems);

describe("schedule forms (lava/lavacore.py JobSchedule)", () => {
  it("reads a crontab, a {crontab, from, to} mapping and lists mixing both", () => {
    const entries = parseSchedule([
      "0 12 * * 1-5",
      { crontab: "0 14  *  * 0,6", from: "2019-06-30T00:00:00Z", to: "2019-07-31" },
    ]);
    expect(entries.map((e) => [e.at, e.cron, e.from?.toISOString(), e.to?.toISOString()])).toEqual([
      ["schedule[0]", "0 12 * * 1-5", undefined, undefined],
      ["schedule[1]", "0 14 * * 0,6", "2019-06-30T00:00:00.000Z", "2019-07-31T00:00:00.000Z"],
    ]);
    expect(parseSchedule({ crontab: "@daily" })).toMatchObject([
      { at: "schedule", cron: "0 0 * * *" },
    ]);
  });

  it("takes absent, null, empty, [] and lava's '--' as no schedule", () => {
    for (const v of [undefined, null, "", " ", "--", []]) expect(parseSchedule(v)).toEqual([]);
  });

  it("names the field of each problem, all in one pass", () => {
    expect(
      messages([
        "0 12 * * 8",
        { crontab: "0 12 * *", from: "yesterday" },
        { from: "2019-02-30T00:00:00" },
        42,
      ]),
    ).toEqual([
      'schedule[0]: day-of-week: 8 is out of range 0-7, got "0 12 * * 8"',
      'schedule[1].crontab: expected 5 fields: minute hour day-of-month month day-of-week, got "0 12 * *"',
      `schedule[1].from: expected an ISO 8601 date-time like 2019-06-30T00:00:00Z (no offset: the realm's timezone), got "yesterday"`,
      'schedule[2].crontab: required: expected a crontab like "0 12 * * 1-5"',
      `schedule[2].from: expected an ISO 8601 date-time like 2019-06-30T00:00:00Z (no offset: the realm's timezone), got "2019-02-30T00:00:00"`,
      "schedule[3]: expected a crontab, a mapping {crontab, from?, to?} or a list of them, got 42",
    ]);
  });

  it("refuses lava's own doc example with its typo 'to:' (lava's dict_check would too)", () => {
    const problems = problemsOf(
      realmDoc({
        jobs: [
          job({ schedule: { crontab: "0 12 * * *", from: "2019-03-01T00:00:00", "to:": "x" } }),
        ],
      }),
    );
    expect(problems).toEqual(["realms/dev.yaml: job ops/vacuum: schedule.to:: unknown field"]);
  });

  it.each([
    [
      "5/15 * * * *",
      'minute: "5/15": a step needs * or a range (cron refuses n/step): write 5-59/15',
    ],
    [
      "0 0 L * *",
      'day-of-month: "L": not standard cron (L, W, #, ?, ~ and $ are extensions lava advises against)',
    ],
    [
      "0 0 * * MON#1",
      'day-of-week: "MON#1": not standard cron (L, W, #, ?, ~ and $ are extensions lava advises against)',
    ],
    ["0 0 * * Monday", 'day-of-week: "Monday": expected numbers or sun/mon/tue/wed/thu/fri/sat'],
    ["0 0 * * 5-1", 'day-of-week: "5-1": the range runs backwards'],
    ["*/0 * * * *", 'minute: "*/0": a step of 0'],
    ["60 * * * *", "minute: 60 is out of range 0-59"],
    ["0 0 0 * *", "day-of-month: 0 is out of range 1-31"],
    ["0 0 30 2 *", "never fires: no month in the month field has those days"],
    [
      "0 0 */2 * MON",
      "day-of-month starting with * and a day-of-week means both must match (vixie cron), which EventBridge Scheduler cannot express: list the days without *",
    ],
    ["@reboot", "@reboot runs when a dispatcher boots, and there is no dispatcher here"],
    [
      "@fortnightly",
      "expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
    ],
  ])("refuses %j: %s", (crontab, message) => {
    expect(messages(crontab)).toEqual([`schedule: ${message}, got ${JSON.stringify(crontab)}`]);
  });
});

describe("crontab fields as cronie reads them (src/entry.c)", () => {
  it.each([
    ["0-59/15 * * * *", "minutes", [0, 15, 30, 45]],
    ["*/20 * * * *", "minutes", [0, 20, 40]],
    ["1-10/3,30 * * * *", "minutes", [1, 4, 7, 10, 30]],
    ["0 */5 * * *", "hours", [0, 5, 10, 15, 20]],
    ["0 0 1-31/10 * *", "days", [1, 11, 21, 31]],
    ["0 0 * jan-mar,Oct *", "months", [1, 2, 3, 10]],
    ["0 0 * * MON-FRI", "weekdays", [1, 2, 3, 4, 5]],
    ["0 0 * * sun,7", "weekdays", [0]],
    ["0 0 * * 5-7", "weekdays", [0, 5, 6]],
    ["0 0 * * */2", "weekdays", [0, 2, 4, 6]],
  ] as const)("%s: %s %j", (crontab, f, values) => {
    expect(parseCron(crontab)[f]).toEqual(values);
  });

  it("keeps vixie's day rule: a field starting with * makes both fields apply", () => {
    expect(parseCron("0 0 */2 * *")).toMatchObject({ dayStar: true, weekdayStar: true });
    expect(parseCron("0 0 1-31/2 * sat")).toMatchObject({ dayStar: false, weekdayStar: false });
  });
});

describe("conversion to Scheduler's cron() (docs/schedules.md §3)", () => {
  it.each([
    // lava's doc examples (doc/user-guide/05-Dispatch/02-scheduled.md, lavasched.md).
    ["0 12 * * Mon", ["cron(0 12 ? * MON *)"]],
    ["0 12 * * 1-5", ["cron(0 12 ? * MON-FRI *)"]],
    ["0 14 * * 0,6", ["cron(0 14 ? * SUN,SAT *)"]],
    ["0 12 * * *", ["cron(0 12 * * ? *)"]],
    ["0-59/15 * * * *", ["cron(0/15 * * * ? *)"]],
    ["0 * * * *", ["cron(0 * * * ? *)"]],
    // Others.
    ["5,10,50-55 */3 * * *", ["cron(5,10,50-55 0/3 * * ? *)"]],
    ["0 9-17/2 * jan-mar,OCT mon-fri", ["cron(0 9-17/2 ? 1-3,10 MON-FRI *)"]],
    ["0 0 1,15 * MON", ["cron(0 0 1,15 * ? *)", "cron(0 0 ? * MON *)"]],
    ["0 0 1-31 * 1", ["cron(0 0 * * ? *)"]],
    ["0 0 * * */2", ["cron(0 0 ? * SUN,TUE,THU,SAT *)"]],
    ["0 0 */2 * *", ["cron(0 0 1/2 * ? *)"]],
    ["0 0 29 2 *", ["cron(0 0 29 2 ? *)"]],
    ["0 0 30 2 1", ["cron(0 0 ? 2 MON *)"]],
    ["@weekly", ["cron(0 0 ? * SUN *)"]],
    ["@yearly", ["cron(0 0 1 1 ? *)"]],
  ])("%s → %j", (crontab, expressions) => {
    expect(toSchedulerCrons(parseCron(crontab)).map((c) => c.expression)).toEqual(expressions);
  });
});

const CRONTABS = [
  "* * * * *",
  "0-59/15 * * * *",
  "*/7 * * * *",
  "5,10,50-55 */3 * * *",
  "0 12 * * Mon",
  "0 12 * * 1-5",
  "0 14 * * 0,6",
  "0 14 * * 7",
  "30 2 * * *",
  "30 1 * * *",
  "0,30 1-3 * * *",
  "0 0 1 * *",
  "0 0 31 * *",
  "0 0 29 2 *",
  "0 0 29 2 1",
  "0 0 1,15 * MON",
  "0 0 13 * FRI",
  "0 9-17/2 * jan-mar,OCT mon-fri",
  "15 10 * * SUN-TUE",
  "0 0 * * */2",
  "0 0 */2 * *",
  "0 0 1-31/2 * sat",
  "0 0 * 2 *",
  "59 23 28-31 * *",
  "@hourly",
  "@weekly",
  "@monthly",
  "@yearly",
  "0 0 1-7 * 1",
  "0 3 * 3,4,10,11 0",
  "0 2 * * 0",
  "0 0 1 1-12/3 *",
  "45 23 31 12 *",
  "0 0 5 * 5-7",
  "*/20 2 * * *",
];
const ZONES = ["UTC", "Australia/Sydney", "America/New_York"];
// Just before each zone's 2026 DST changes: NY 8 March and 1 November, Sydney 5 April and 4 October.
const STARTS = [
  "2026-03-08T05:00:00Z",
  "2026-11-01T04:00:00Z",
  "2026-04-04T14:00:00Z",
  "2026-10-03T14:00:00Z",
];

/** What the converted schedules fire, evaluated by the AWS-syntax evaluator, each instant once. */
function scheduled(entries: ScheduleEntry[], after: Date, n: number, inclusive: boolean): number[] {
  const runs = schedulerPlans(entries, after).flatMap((p) =>
    schedulerRuns(p.expression, p.entry.timezone, after, n, {
      inclusive,
      ...(p.start ? { start: p.start } : {}),
      ...(p.end ? { end: p.end } : {}),
    }),
  );
  return [...new Set(runs)].sort((a, b) => a - b).slice(0, n);
}

describe("lava's next runs equal the converted schedules' (an evaluator of AWS's syntax)", () => {
  it(`agrees for ${CRONTABS.length} crontabs × ${ZONES.length} zones × ${STARTS.length} starts, 20 runs each`, () => {
    let compared = 0;
    for (const crontab of CRONTABS) {
      for (const zone of ZONES) {
        const entries = parseSchedule(crontab, zone);
        for (const start of STARTS) {
          const lava = nextRuns(entries, new Date(start), 20).map((d) => d.getTime());
          expect(lava, `${crontab} ${zone} ${start}`).toHaveLength(20);
          expect(
            scheduled(entries, new Date(start), 20, true),
            `${crontab} ${zone} ${start}`,
          ).toEqual(lava);
          compared++;
        }
      }
    }
    expect(compared).toBe(CRONTABS.length * ZONES.length * STARTS.length);
  });

  it("agrees with windows, inside and outside, whether Scheduler's dates are inclusive or not", () => {
    const schedules = [
      [
        { crontab: "0 12 * * *", to: "2019-06-30T00:00:00Z" },
        { crontab: "0 14 * * *", from: "2019-06-30T00:00:00Z" },
      ],
      { crontab: "0 12 * * *", from: "2019-03-01T00:00:00", to: "2019-02-01T00:00:00" },
      { crontab: "*/10 * * * *", from: "2019-02-01T12:00:00", to: "2019-02-01T12:30:00" },
      { crontab: "*/10 * * * *", from: "2019-02-01T12:00:30", to: "2019-02-01T12:29:59" },
      { crontab: "0 * * * *", from: "2019-02-01T12:00:00", to: "2019-02-01T06:00:00" },
    ];
    for (const schedule of schedules) {
      for (const zone of ZONES) {
        const entries = parseSchedule(schedule, zone);
        const after = new Date("2019-01-29T00:00:00Z");
        const lava = nextRuns(entries, after, 20).map((d) => d.getTime());
        for (const inclusive of [true, false])
          expect(scheduled(entries, after, 20, inclusive), JSON.stringify(schedule)).toEqual(lava);
      }
    }
  });

  it("fires twice on a day both day fields allow, where lava fires once (one schedule per field)", () => {
    const [entry] = parseSchedule("0 0 1,15 * MON");
    const plans = schedulerPlans(entry ? [entry] : []);
    // 1 June 2026 is a Monday.
    const after = new Date("2026-05-31T00:00:00Z");
    const both = plans.map((p) => schedulerRuns(p.expression, "UTC", after, 1)[0]);
    expect(both).toEqual([Date.parse("2026-06-01T00:00:00Z"), Date.parse("2026-06-01T00:00:00Z")]);
  });
});

describe("next runs (docs/schedules.md §4)", () => {
  it("follows lava's windows: before and after a date, and outside a range (from after to)", () => {
    const doc3 = parseSchedule([
      { crontab: "0 12 * * *", to: "2019-06-30T00:00:00Z" },
      { crontab: "0 14 * * *", from: "2019-06-30T00:00:00Z" },
    ]);
    expect(iso(nextRuns(doc3, new Date("2019-06-28T00:00:00Z"), 4))).toEqual([
      "2019-06-28T12:00",
      "2019-06-29T12:00",
      "2019-06-30T14:00",
      "2019-07-01T14:00",
    ]);
    const notFebruary = parseSchedule({
      crontab: "0 12 * * *",
      from: "2019-03-01",
      to: "2019-02-01",
    });
    expect(iso(nextRuns(notFebruary, new Date("2019-01-30T00:00:00Z"), 4))).toEqual([
      "2019-01-30T12:00",
      "2019-01-31T12:00",
      "2019-03-01T12:00",
      "2019-03-02T12:00",
    ]);
    expect(nextRuns(parseSchedule({ crontab: "* * * * *", to: "2019-01-01" }), new Date())).toEqual(
      [],
    );
  });

  it("runs in the realm's time zone, offset-less dates too", () => {
    const [entry] = parseSchedule(
      { crontab: "0 9 * * *", from: "2026-07-01T00:00:00" },
      "Australia/Sydney",
    );
    // Midnight 1 July in Sydney (AEST, +10) is 14:00 UTC the day before.
    expect(entry?.from?.toISOString()).toBe("2026-06-30T14:00:00.000Z");
    expect(iso(nextRuns(entry ? [entry] : [], new Date("2026-06-01T00:00:00Z"), 2))).toEqual([
      "2026-06-30T23:00",
      "2026-07-01T23:00",
    ]);
  });

  it.each([
    // New York springs forward at 02:00 on 8 March 2026: 02:30 does not exist that day.
    [
      "30 2 * * *",
      "America/New_York",
      "2026-03-07T00:00:00Z",
      ["2026-03-07T07:30", "2026-03-09T06:30"],
    ],
    // …and falls back at 02:00 on 1 November: 01:30 happens twice, fires once (the first).
    [
      "30 1 * * *",
      "America/New_York",
      "2026-10-31T12:00:00Z",
      ["2026-11-01T05:30", "2026-11-02T06:30"],
    ],
    // Sydney springs forward at 02:00 on 4 October 2026.
    [
      "0 2 * * 0",
      "Australia/Sydney",
      "2026-09-26T00:00:00Z",
      ["2026-09-26T16:00", "2026-10-10T15:00"],
    ],
    // …and falls back at 03:00 on 5 April 2026: 02:30 AEDT, not again at 02:30 AEST.
    [
      "30 2 * * *",
      "Australia/Sydney",
      "2026-04-04T00:00:00Z",
      ["2026-04-04T15:30", "2026-04-05T16:30"],
    ],
  ])("%s in %s after %s: %j (Scheduler's DST rule)", (crontab, zone, after, runs) => {
    expect(iso(nextRuns(parseSchedule(crontab, zone), new Date(after), 2))).toEqual(runs);
  });

  it("finds 29 February in leap years only", () => {
    expect(iso(nextRuns(parseSchedule("0 0 29 2 *"), new Date("2096-01-01T00:00:00Z"), 2))).toEqual(
      ["2096-02-29T00:00", "2104-02-29T00:00"],
    );
  });
});

describe("the realm's timezone and the job fields", () => {
  it("accepts IANA names Intl knows, in their case, and no offsets", () => {
    for (const tz of ["Australia/Sydney", "UTC", "America/New_York", "Etc/GMT+5"])
      expect(timeZoneProblem(tz), tz).toBeUndefined();
    expect(timeZoneProblem("australia/sydney")).toBe(
      "expected Australia/Sydney (time zone names are case-sensitive)",
    );
    for (const tz of ["Mars/Olympus", "+10:00", ""]) expect(timeZoneProblem(tz), tz).toBeDefined();
  });

  it("validates timezone, schedule and max_run_delay in a realm, without a warning", () => {
    const realm = realmOf({
      timezone: "Australia/Sydney",
      jobs: [job({ schedule: ["0 3 * * *"], max_run_delay: "10m" })],
    });
    expect(realm.top.timezone).toBe("Australia/Sydney");
    expect(realm.jobs[0]).toMatchObject({ schedule: ["0 3 * * *"], max_run_delay: "10m" });
    expect(realm.warnings.filter((w) => /schedule|max_run_delay/.test(w))).toEqual([]);
    expect(
      problemsOf(
        realmDoc({
          timezone: "Sydney",
          jobs: [job({ schedule: ["0 3 * *"], max_run_delay: "soon" })],
        }),
      ),
    ).toEqual([
      'realms/dev.yaml: timezone: expected an IANA time zone like Australia/Sydney or UTC, got "Sydney"',
      'realms/dev.yaml: job ops/vacuum: schedule[0]: expected 5 fields: minute hour day-of-month month day-of-week, got "0 3 * *"',
      'realms/dev.yaml: job ops/vacuum: max_run_delay: expected a duration like 30s, 5m or 2h, got "soon"',
    ]);
  });
});
