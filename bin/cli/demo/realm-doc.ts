/**
 * The demo realm: two connections to one local database (Aurora-style and plain), five loads,
 * two merges of members by key (mode merge) and two sqli merges of orders.
 */
import { LANDING, TEMP_BUCKET } from "./data";

/** The realm's name. */
export const DEMO_REALM = "demo";
/** The SSM parameter holding the loader's password. */
export const PASSWORD_PARAM = `/lava/${DEMO_REALM}/club-loader`;
/** The database, its loading role and the schema the jobs load into. */
export const DATABASE = "clubhouse";
export const LOADER = "loader";
export const SCHEMA = "club";

/** Connection ids: Aurora (loads through aws_s3) and plain PostgreSQL (client-side COPY). */
export const AURORA_CONN = "club-aurora";
export const PG_CONN = "club-pg";

/** Job ids. */
export const JOBS = {
  members: "club/members",
  tastings: "club/tastings",
  orders: "club/orders",
  merge: "club/merge-orders",
  mergeLate: "club/merge-late-order",
  memberBook: "club/member-book",
  memberChanges: "club/member-changes",
  tastingsCsv: "club/tastings-csv",
} as const;

/** The table the members are merged into by key (mode merge), and its columns. */
export const MEMBER_BOOK = `${SCHEMA}.member_book`;
const MEMBER_COLUMNS = [
  "member_id INTEGER PRIMARY KEY",
  "name TEXT NOT NULL",
  "joined DATE NOT NULL",
  "favourite_custard TEXT",
];
/** At most this many bad rows in the tastings-csv job (on_bad_rows: quarantine). */
export const MAX_BAD_ROWS = 2;

/** The table the orders are merged into, and the merge (lava's own sqli example, in one transaction). */
export const ORDER_BOOK = `${SCHEMA}.order_book`;
const MERGE = [
  `DELETE FROM ${ORDER_BOOK}`,
  `INSERT INTO ${ORDER_BOOK} SELECT * FROM ${SCHEMA}.orders`,
];
/** A late order too large for NUMERIC(4,1): the third statement fails. */
export const LATE_ORDER = `INSERT INTO ${ORDER_BOOK} VALUES (99, 1, 'vanilla', 12345)`;

/** Where the database listens and which CA signed its certificate. */
export interface DemoServer {
  host: string;
  port: number;
  caFile: string;
}

function connection(connId: string, type: string, description: string, server: DemoServer) {
  return {
    conn_id: connId,
    type,
    enabled: true,
    description,
    host: server.host,
    port: server.port,
    database: DATABASE,
    user: LOADER,
    password: PASSWORD_PARAM,
    ssl: true,
  };
}

function mergeJob(jobId: string, description: string, statements: readonly string[]) {
  return {
    job_id: jobId,
    type: "sqli",
    enabled: true,
    description,
    payload: [...statements],
    parameters: { conn_id: PG_CONN, transaction: true },
  };
}

function job(jobId: string, description: string, parameters: Record<string, unknown>) {
  return {
    job_id: jobId,
    type: "db_from_s3",
    enabled: true,
    description,
    parameters: { bucket: LANDING, schema: SCHEMA, ...parameters },
  };
}

/** The realm document (keys come with each dispatch, as an s3trigger would pass them). */
export function demoRealmDoc(server: DemoServer): Record<string, unknown> {
  return {
    realm: DEMO_REALM,
    region: "us-east-1",
    s3_temp: `s3://${TEMP_BUCKET}/${DEMO_REALM}`,
    s3_sources: [{ bucket: LANDING }],
    ssl_ca_file: server.caFile,
    connections: [
      connection(AURORA_CONN, "postgres-aurora", "the club's database, as Aurora", server),
      connection(PG_CONN, "postgres", "the same database, as plain PostgreSQL", server),
    ],
    jobs: [
      job(JOBS.members, "the membership list, replaced by each monthly file", {
        db_conn_id: AURORA_CONN,
        table: "members",
        mode: "switch",
        columns: MEMBER_COLUMNS,
        args: ["FORMAT CSV", "HEADER"],
      }),
      job(JOBS.tastings, "tasting notes, gzip-compressed", {
        db_conn_id: AURORA_CONN,
        table: "tastings",
        mode: "append",
        columns: ["tasted_on DATE", "member_id INTEGER", "custard TEXT", "stars INTEGER"],
        args: ["FORMAT CSV", "HEADER", "GZIP"],
      }),
      job(JOBS.orders, "custard orders, in parts listed by a manifest", {
        db_conn_id: PG_CONN,
        table: "orders",
        mode: "truncate",
        columns: ["order_id INTEGER", "member_id INTEGER", "custard TEXT", "litres NUMERIC(4,1)"],
        args: ["FORMAT CSV", "HEADER", "MANIFEST"],
      }),
      job(JOBS.memberBook, "the member book: a monthly list merged in by member_id", {
        db_conn_id: AURORA_CONN,
        table: "member_book",
        mode: "merge",
        columns: MEMBER_COLUMNS,
        args: ["FORMAT CSV", "HEADER"],
      }),
      job(JOBS.memberChanges, "the member book: AWS DMS change files merged in, deletes too", {
        db_conn_id: AURORA_CONN,
        table: "member_book",
        mode: "merge",
        key_columns: ["member_id"],
        delete_column: "Op",
        columns: MEMBER_COLUMNS,
        args: ["FORMAT CSV"],
      }),
      job(JOBS.tastingsCsv, "tasting notes as plain CSV: bad rows set aside, the rest loaded", {
        db_conn_id: AURORA_CONN,
        table: "tastings",
        mode: "append",
        args: ["FORMAT CSV", "HEADER"],
        on_bad_rows: "quarantine",
        max_bad_rows: MAX_BAD_ROWS,
      }),
      mergeJob(JOBS.merge, "the loaded orders merged into the order book", [
        ...MERGE,
        `SELECT custard, sum(litres) AS litres FROM ${ORDER_BOOK} GROUP BY custard ORDER BY custard`,
      ]),
      mergeJob(JOBS.mergeLate, "the same merge, with a late order that does not fit", [
        ...MERGE,
        LATE_ORDER,
      ]),
    ],
  };
}
