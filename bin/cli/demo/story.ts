/**
 * The demo's story, after the world has started: write and check the realm, store the password,
 * upload the sample files, then run real jobs through the same runner as the Lambda function and
 * check that each one did what lava-aurora promises.
 */
import { readFile } from "node:fs/promises";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { runJob } from "../../../lambda/jobs/run-job";
import type { JobDeps, JobResult } from "../../../lambda/jobs/types";
import { loadRealmFile } from "../../../lambda/spec/load";
import type { Realm } from "../../../lambda/spec/realm";
import { pgBinDir } from "../local-world/pg-process";
import { storePassword } from "../put-password";
import {
  AUGUST_BAD_LINES,
  AUGUST_TASTINGS,
  BAD_LINE,
  KEYS,
  LANDING,
  MEMBER_CHANGES,
  MEMBERS_JULY,
  SAMPLE_FILES,
  TEMP_BUCKET,
} from "./data";
import type { Printer } from "./print";
import {
  DATABASE,
  DEMO_REALM,
  JOBS,
  LATE_ORDER,
  LOADER,
  MAX_BAD_ROWS,
  MEMBER_BOOK,
  ORDER_BOOK,
  PASSWORD_PARAM,
  SCHEMA,
} from "./realm-doc";
import type { DemoWorld } from "./world";

const A = `${SCHEMA}.members_a`;
const B = `${SCHEMA}.members_b`;

interface Scene {
  readonly world: DemoWorld;
  readonly print: Printer;
  readonly deps: JobDeps;
  realm?: Realm;
}

const rowsOf = (n: number) => `${n} ${n === 1 ? "row" : "rows"}`;
const bare = (quoted: string | undefined) => quoted?.replace(/"/g, "") ?? "?";

/**
 * Dispatch `key` (and any other parameters) to a job, as an s3trigger would, through the runner
 * the Lambda function uses.
 */
async function run(
  scene: Scene,
  jobId: string,
  key: string,
  more: Record<string, string | number | boolean> = {},
): Promise<JobResult> {
  if (!scene.realm) throw new Error("the realm was not loaded");
  const params = Object.entries({ key, ...more }).map(([k, v]) => ` --param ${k}=${v}`);
  scene.print.note(`same as: lava-aurora run ${jobId}${params.join("")}`);
  return runJob(scene.realm, { job_id: jobId, parameters: { key, ...more } }, scene.deps);
}

/** ✓ for an ok run of `rows` rows into `table` by `loader`; on surprise, what the runner said. */
function expectLoaded(
  scene: Scene,
  r: JobResult,
  rows: number,
  table: string,
  loader: string,
): boolean {
  const ok =
    r.status === "ok" &&
    r.rows === rows &&
    bare(r.loaded_table) === table &&
    r.events.some((e) => e.endsWith(`(${loader})`));
  const got = r.status === "ok" ? `${rowsOf(r.rows ?? 0)} into ${bare(r.loaded_table)}` : "";
  scene.print.check(ok, `${r.status}: ${got || r.error?.message || r.reason} (${loader})`);
  if (!ok) for (const e of r.events) scene.print.note(e);
  return ok;
}

type Merged = NonNullable<JobResult["merged"]>;
const showMerged = (m: Merged | undefined) =>
  m ? `${m.inserted} inserted, ${m.updated} updated, ${m.deleted} deleted` : "no merge counts";

/** ✓ for an ok merge of `rows` staged rows into `table` by `loader` that counted exactly `want`. */
function expectMerged(
  scene: Scene,
  r: JobResult,
  rows: number,
  want: Merged,
  table: string,
  loader: string,
): boolean {
  const m = r.merged;
  const ok =
    r.status === "ok" &&
    r.rows === rows &&
    bare(r.loaded_table) === table &&
    m?.inserted === want.inserted &&
    m.updated === want.updated &&
    m.deleted === want.deleted &&
    r.events.some((e) => e.endsWith(`(${loader})`));
  const got = r.status === "ok" ? `${rowsOf(r.rows ?? 0)} merged into ${bare(r.loaded_table)}` : "";
  scene.print.check(
    ok,
    `${r.status}: ${got || r.error?.message || r.reason} (${loader}): ${showMerged(m)}`,
  );
  if (!ok) for (const e of r.events) scene.print.note(e);
  return ok;
}

/** An event without its `+0.123s ` timestamp. */
const untimed = (e: string) => e.replace(/^\+\d+\.\d+s /, "");

async function showMembers(scene: Scene): Promise<void> {
  scene.print.table(await scene.world.table(A));
  scene.print.table(await scene.world.table(B));
}

async function snapshot(scene: Scene): Promise<string> {
  return JSON.stringify([await scene.world.table(A), await scene.world.table(B)]);
}

/** The rest of step 1: what started, each checked. */
async function checkWorld(scene: Scene): Promise<void> {
  const { print, world } = scene;
  const { cluster, s3, aws } = world;
  const ssl = (await world.rows("SHOW ssl"))[0]?.ssl;
  const tcp = await world.rows("SELECT DISTINCT type FROM pg_hba_file_rules WHERE type <> 'local'");
  print.check(
    ssl === "on" && tcp.map((r) => r.type).join() === "hostssl",
    `PostgreSQL ${world.serverVersion} on ${cluster.host}:${cluster.port}, TLS only, certificate from a fresh test CA`,
  );
  print.note(`server binaries: ${pgBinDir()}`);
  const buckets = (await s3.client().send(new ListBucketsCommand({}))).Buckets ?? [];
  const names = buckets.map((b) => b.Name).sort();
  print.check(
    names.join() === [LANDING, TEMP_BUCKET].sort().join(),
    `S3 server (s3rver) on ${s3.endpoint}: buckets ${names.join(", ")}`,
  );
  print.info(`SSM stub on ${aws.endpoint}`);
  const imports = await world.rows(
    "SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'aws_s3' AND p.proname = 'table_import_from_s3'",
  );
  print.check(
    imports.length === 4,
    "aws_s3 stand-in installed: the database pulls objects from the S3 server, as Aurora does",
  );
}

async function writeRealm(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Write the demo realm and check it, as `lava-aurora check` does");
  print.note(world.realmFile);
  scene.realm = await loadRealmFile(world.realmFile);
  const { realm } = scene;
  print.check(
    realm.name === DEMO_REALM,
    `realm ${realm.name}: ${realm.connections.length} connections, ${realm.jobs.length} jobs, valid`,
  );
}

async function putPassword(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Store the loader's password in SSM, as `lava-aurora put-password` does");
  print.info(await storePassword(DEMO_REALM, PASSWORD_PARAM, world.loaderPassword));
  const stored = world.aws.ssm.get(PASSWORD_PARAM);
  print.check(
    stored?.type === "SecureString" && stored.value === world.loaderPassword,
    `SecureString ${PASSWORD_PARAM}, key ${stored?.keyId ?? "?"}`,
  );
  const realmText = await readFile(world.realmFile, "utf8");
  print.check(
    !realmText.includes(world.loaderPassword),
    "the realm file names the parameter, never the password",
  );
}

async function upload(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step(`Upload the sample files to s3://${LANDING}`);
  const wide = Math.max(...SAMPLE_FILES.map((f) => f.key.length));
  for (const f of SAMPLE_FILES) {
    await world.s3.put(LANDING, f.key, f.body);
    print.info(`${f.key.padEnd(wide)}  ${f.about}`);
  }
  const listed = await world.s3.client().send(new ListObjectsV2Command({ Bucket: LANDING }));
  print.check(
    (listed.KeyCount ?? 0) === SAMPLE_FILES.length,
    `${listed.KeyCount ?? 0} objects in s3://${LANDING}`,
  );
}

async function firstLoad(scene: Scene): Promise<void> {
  const { print } = scene;
  print.step("Load May's members: job club/members, switch mode, Aurora's aws_s3 import");
  const r = await run(scene, JOBS.members, KEYS.may);
  expectLoaded(scene, r, 6, A, "aws_s3 import");
  const log = await scene.world.cluster.readLog();
  const tls = new RegExp(
    `user=${LOADER} database=${DATABASE} .*SSL enabled \\(protocol=([^,]+)`,
  ).exec(log);
  print.check(
    r.status === "ok" && tls !== null,
    `over ${tls?.[1] ?? "TLS"} (server log), certificate verified against the realm's ssl_ca_file; password read from SSM`,
  );
  await showMembers(scene);
  const b = await scene.world.table(B);
  print.check(b.rows.length === 0, `${B} waits, empty, for the next file`);
}

async function secondLoad(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Load June's members: switch fills the other table and empties the first");
  const r = await run(scene, JOBS.members, KEYS.june);
  expectLoaded(scene, r, 7, B, "aws_s3 import");
  await showMembers(scene);
  print.check((await world.table(A)).rows.length === 0, `${A} emptied, in the same transaction`);
}

async function duplicate(scene: Scene): Promise<void> {
  const { print } = scene;
  print.step("June's file again, as a duplicate S3 event would deliver it");
  const before = await snapshot(scene);
  const r = await run(scene, JOBS.members, KEYS.june);
  print.check(
    r.status === "skipped" && r.reason === "duplicate",
    `${r.status}${r.reason ? `: ${r.reason}` : ""} (the load ledger already has this object)`,
  );
  print.check((await snapshot(scene)) === before, `${A} and ${B} unchanged`);
}

async function badRow(scene: Scene): Promise<void> {
  const { print } = scene;
  print.step(`July's members, whose line ${BAD_LINE} is bad`);
  print.note(`line ${BAD_LINE}: ${MEMBERS_JULY.split("\n")[BAD_LINE - 1]}`);
  const before = await snapshot(scene);
  const r = await run(scene, JOBS.members, KEYS.july);
  print.check(r.status === "failed", `${r.status}: ${r.error?.name ?? "no error"}`);
  const message = r.error?.message ?? "";
  print.check(
    message.includes(`s3://${LANDING}/${KEYS.july}`) && message.includes(`line ${BAD_LINE}`),
    `the error names the object and the line: ${message}`,
  );
  print.check(
    (await snapshot(scene)) === before,
    `nothing changed: ${B} still holds June's members, ${A} is still empty`,
  );
  await showMembers(scene);
}

async function gzipAurora(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Tastings: gzip without Content-Encoding, through Aurora's aws_s3 import");
  const s3 = world.s3.client();
  const head = () => s3.send(new HeadObjectCommand({ Bucket: LANDING, Key: KEYS.tastings }));
  const before = await head();
  const r = await run(scene, JOBS.tastings, KEYS.tastings);
  expectLoaded(scene, r, 5, `${SCHEMA}.tastings`, "aws_s3 import");
  const copied = r.events.find((e) => e.includes("importing a copy"));
  print.check(
    copied !== undefined,
    "Aurora decompresses only with Content-Encoding: gzip, so it imported a temporary copy that has it",
  );
  if (copied) print.note(untimed(copied));
  const temp = await s3.send(new ListObjectsV2Command({ Bucket: TEMP_BUCKET }));
  print.check((temp.KeyCount ?? 0) === 0, `the copy is deleted: s3://${TEMP_BUCKET} is empty`);
  const after = await head();
  print.check(
    after.ETag === before.ETag &&
      after.LastModified?.getTime() === before.LastModified?.getTime() &&
      after.ContentEncoding === undefined,
    "the source is untouched: same ETag and Last-Modified, still no Content-Encoding (no second S3 event)",
  );
  print.table(await world.table(`${SCHEMA}.tastings`));
}

async function manifest(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Orders: a manifest of two files, streamed through COPY (plain PostgreSQL)");
  const r = await run(scene, JOBS.orders, KEYS.manifest);
  expectLoaded(scene, r, 6, `${SCHEMA}.orders`, "client COPY");
  const ledger = await world.rows(
    "SELECT key, rows_loaded, run_id FROM lava.load_ledger WHERE via_manifest = $1 ORDER BY key",
    [KEYS.manifest],
  );
  print.check(
    ledger.length === 2 && ledger.every((l) => l.run_id === r.run_id),
    `one transaction, one ledger row per file: ${ledger.map((l) => `${l.key} (${l.rows_loaded})`).join(", ")}`,
  );
  print.table(await world.table(`${SCHEMA}.orders`));
}

async function mergeOrders(scene: Scene): Promise<void> {
  const { print, world } = scene;
  if (!scene.realm) throw new Error("the realm was not loaded");
  print.step(`Merge the orders into ${ORDER_BOOK} with sqli: DELETE + INSERT in one transaction`);
  await world.rows(`CREATE TABLE ${ORDER_BOOK} (LIKE ${SCHEMA}.orders)`);
  await world.rows(`ALTER TABLE ${ORDER_BOOK} OWNER TO ${LOADER}`);
  await world.rows(`INSERT INTO ${ORDER_BOOK} VALUES (1, 1, 'stale', 1.0)`);
  print.note(`same as: lava-aurora run ${JOBS.merge}`);
  const r = await runJob(scene.realm, { job_id: JOBS.merge }, scene.deps);
  const tags = (r.statements ?? []).map((s) => `${s.command} ${s.rows ?? ""}`.trim());
  print.check(
    r.status === "ok" && r.events.some((e) => e.includes("committed 3 statement(s)")),
    `${r.status}: ${tags.join(", ") || r.error?.message} — committed together`,
  );
  const summary = r.statements?.[2]?.output;
  print.check(
    summary?.endsWith("/2.0.out") === true,
    `the SELECT's rows, pipe-separated as lava writes them: ${summary ?? "none"}`,
  );
  const book = await world.table(ORDER_BOOK);
  print.table(book);

  print.step("The same merge with a late order that does not fit: the third statement fails");
  print.note(LATE_ORDER);
  const before = JSON.stringify(await world.table(ORDER_BOOK));
  const late = await runJob(scene.realm, { job_id: JOBS.mergeLate }, scene.deps);
  const message = late.error?.message ?? "";
  print.check(
    late.status === "failed" && message.startsWith("payload[2] statement 0 (line 1):"),
    `${late.status}: ${late.error?.name ?? "no error"}: ${message}`,
  );
  print.check(
    JSON.stringify(await world.table(ORDER_BOOK)) === before,
    `rolled back: ${ORDER_BOOK} unchanged (its DELETE and INSERT did not commit)`,
  );
}

async function mergeMay(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step(`Merge May's members into ${MEMBER_BOOK}: mode merge, by the primary key`);
  const r = await run(scene, JOBS.memberBook, KEYS.may);
  expectMerged(scene, r, 6, { inserted: 6, updated: 0, deleted: 0 }, MEMBER_BOOK, "aws_s3 import");
  const book = await world.table(MEMBER_BOOK);
  print.check(
    book.rows.length === 6,
    `${MEMBER_BOOK} created from the job's columns, with member_id its key: ${rowsOf(book.rows.length)}`,
  );
}

/** The member book after June's changes: Bartholomew gone, Desmond's favourite changed, two new. */
const BOOK_AFTER_JUNE = [
  ["1", "Agatha Crumble", "2019-03-14", "vanilla"],
  ["3", "Clementine Flan", "2021-11-23", "butterscotch"],
  ["4", "Desmond Brûlée", "2022-02-02", "salted caramel"],
  ["5", "Edith Eggnog", "2023-12-24", "nutmeg"],
  ["6", "Florence Pudding", "2024-06-15", "rhubarb & custard"],
  ["7", "Gideon Tart", "2026-06-03", "pistachio"],
  ["8", "Hyacinth Jelly", "2026-06-18", "lemon curd"],
];

/** member_id → the transaction that last wrote its row (xmin): a row not rewritten keeps it. */
async function writers(scene: Scene): Promise<Map<string, string>> {
  const rows = await scene.world.rows(`SELECT member_id, xmin FROM ${MEMBER_BOOK}`);
  return new Map(rows.map((r) => [r.member_id ?? "", r.xmin ?? ""]));
}

async function mergeChanges(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("Merge June's changes as AWS DMS writes them: the operation first, D deletes");
  print.note("no header; Op (I, U or D), then the table's columns, in the order they changed:");
  for (const l of MEMBER_CHANGES.trimEnd().split("\n")) print.note(`  ${l}`);
  const before = await writers(scene);
  const r = await run(scene, JOBS.memberChanges, KEYS.changes);
  expectMerged(scene, r, 6, { inserted: 2, updated: 1, deleted: 1 }, MEMBER_BOOK, "aws_s3 import");
  const book = await world.table(MEMBER_BOOK);
  print.check(
    JSON.stringify(book.rows) === JSON.stringify(BOOK_AFTER_JUNE),
    "Bartholomew deleted, Desmond's favourite changed, Gideon and Hyacinth in: Gideon's last row (pistachio) won",
  );
  const after = await writers(scene);
  const rewritten = [...after].filter(([id, x]) => before.get(id) !== x).map(([id]) => id);
  print.check(
    rewritten.sort().join() === "4,7,8",
    `only members 4, 7 and 8 written (xmin): Edith's U row changed nothing, so it was not rewritten or counted as updated`,
  );
  print.table(book);
}

const rejectsKey = (runId: string) => `${DEMO_REALM}/${JOBS.tastingsCsv}/${runId}/rejects.csv`;

async function augustRows(scene: Scene): Promise<string> {
  const rows = await scene.world.rows(
    `SELECT * FROM ${SCHEMA}.tastings WHERE tasted_on >= '2026-08-01' ORDER BY tasted_on, member_id`,
  );
  return JSON.stringify(rows.map((r) => Object.values(r)));
}

async function quarantine(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step(
    `August's tastings, two rows bad: set aside, the rest loaded (on_bad_rows: quarantine, max_bad_rows: ${MAX_BAD_ROWS})`,
  );
  const lines = AUGUST_TASTINGS.split("\n");
  for (const n of AUGUST_BAD_LINES) print.note(`line ${n}: ${lines[n - 1]}`);
  const r = await run(scene, JOBS.tastingsCsv, KEYS.august);
  const ok =
    r.status === "ok" &&
    r.rows === 4 &&
    r.rows_rejected === 2 &&
    bare(r.loaded_table) === `${SCHEMA}.tastings` &&
    r.events.some((e) => e.endsWith("(client COPY)"));
  print.check(
    ok,
    r.status === "ok"
      ? `ok: ${rowsOf(r.rows ?? 0)} into ${bare(r.loaded_table)}, ${r.rows_rejected ?? "?"} set aside (client COPY)`
      : `${r.status}: ${r.error?.message ?? r.reason}`,
  );
  if (!ok) for (const e of r.events) print.note(e);
  const through = r.events.find((e) => e.includes("load through client COPY"));
  print.check(
    through !== undefined,
    "on an Aurora connection the rows come through this process (aws_s3 cannot set rows aside), and the run says so",
  );
  if (through) print.note(untimed(through));
  const good = JSON.stringify([
    ["2026-08-01", "1", "vanilla", "5"],
    ["2026-08-01", "7", "pistachio", "4"],
    ["2026-08-15", "8", "lemon curd", "5"],
    ["2026-08-22", "6", "rhubarb & custard", "3"],
  ]);
  print.check(
    (await augustRows(scene)) === good,
    "the four good rows committed, in the run's one transaction",
  );
  const where = `s3://${TEMP_BUCKET}/${rejectsKey(r.run_id)}`;
  print.check(r.rejects === where, `the bad rows are in ${where.replace(r.run_id, "<run_id>")}`);
  const file = await world.s3
    .client()
    .send(new GetObjectCommand({ Bucket: TEMP_BUCKET, Key: rejectsKey(r.run_id) }))
    .then(
      (o) => o.Body?.transformToString() ?? "",
      () => "",
    );
  const got = file.trimEnd().split("\n");
  const object = `s3://${LANDING}/${KEYS.august}`;
  print.check(
    got.length === 3 &&
      got[0] === "object,line,sqlstate,error,record" &&
      got[1]?.startsWith(`${object},4,22P02,`) === true &&
      got[2]?.startsWith(`${object},6,22008,`) === true,
    "each with its object, line, SQLSTATE, PostgreSQL's message and the record:",
  );
  for (const l of got) print.note(`  ${l}`);
  print.table(await world.table(`${SCHEMA}.tastings`));
}

async function tooManyBad(scene: Scene): Promise<void> {
  const { print, world } = scene;
  print.step("The same file again allowing one bad row (and reload, past the ledger): it fails");
  const before = await world.table(`${SCHEMA}.tastings`);
  const listTemp = async () =>
    (await world.s3.client().send(new ListObjectsV2Command({ Bucket: TEMP_BUCKET }))).KeyCount ?? 0;
  const files = await listTemp();
  const r = await run(scene, JOBS.tastingsCsv, KEYS.august, { max_bad_rows: 1, reload: true });
  const message = r.error?.message ?? "";
  print.check(
    r.status === "failed" &&
      r.error?.name === "BadDataError" &&
      message.includes("more than 1 bad rows") &&
      message.includes(`line ${AUGUST_BAD_LINES[1]}`),
    `${r.status}: ${r.error?.name ?? "no error"}: ${message || r.reason}`,
  );
  const after = await world.table(`${SCHEMA}.tastings`);
  print.check(
    JSON.stringify(after.rows) === JSON.stringify(before.rows) && (await listTemp()) === files,
    `nothing changed: ${SCHEMA}.tastings holds the same ${rowsOf(after.rows.length)}, and no reject file was written`,
  );
}

/** Every scene in order; a scene that throws ends the story (the caller reports it). */
export const SCENES = [
  checkWorld,
  writeRealm,
  putPassword,
  upload,
  firstLoad,
  secondLoad,
  duplicate,
  badRow,
  gzipAurora,
  manifest,
  mergeOrders,
  mergeMay,
  mergeChanges,
  quarantine,
  tooManyBad,
] as const;

/** Tell the story on a started world; checks are counted by `print`. */
export async function tellStory(world: DemoWorld, print: Printer, deps: JobDeps): Promise<void> {
  const scene: Scene = { world, print, deps };
  for (const s of SCENES) await s(scene);
}
