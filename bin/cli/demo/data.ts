/** The demo's sample files: the custard club's members, their changes, tastings and orders. */
import { gzipSync } from "node:zlib";

/** The bucket the sample files land in (the realm's `s3_sources`). */
export const LANDING = "custard-landing";
/** The realm's `s3_temp` bucket (gzip copies for Aurora go here, and are deleted). */
export const TEMP_BUCKET = "lava-demo-temp";

const MEMBER_HEADER = "member_id,name,joined,favourite_custard";

/** May's member list: six members. */
export const MEMBERS_MAY = `${MEMBER_HEADER}
1,Agatha Crumble,2019-03-14,vanilla
2,Bartholomew Trifle,2020-07-01,crème anglaise
3,Clementine Flan,2021-11-23,butterscotch
4,Desmond Brûlée,2022-02-02,burnt sugar
5,Edith Eggnog,2023-12-24,nutmeg
6,Florence Pudding,2024-06-15,rhubarb & custard
`;

/** June's: Bartholomew has left, Gideon and Hyacinth have joined. */
export const MEMBERS_JUNE = `${MEMBER_HEADER}
1,Agatha Crumble,2019-03-14,vanilla
3,Clementine Flan,2021-11-23,butterscotch
4,Desmond Brûlée,2022-02-02,burnt sugar
5,Edith Eggnog,2023-12-24,nutmeg
6,Florence Pudding,2024-06-15,rhubarb & custard
7,Gideon Tart,2026-06-03,pistachio
8,Hyacinth Jelly,2026-06-18,lemon curd
`;

/** The line of {@link MEMBERS_JULY} that cannot load (1 is the header). */
export const BAD_LINE = 5;

/** July's, with a joining date nobody can parse on line 5. */
export const MEMBERS_JULY = `${MEMBER_HEADER}
1,Agatha Crumble,2019-03-14,vanilla
3,Clementine Flan,2021-11-23,butterscotch
4,Desmond Brûlée,2022-02-02,burnt sugar
9,Ignatius Blancmange,next Tuesday,strawberry
5,Edith Eggnog,2023-12-24,nutmeg
`;

/** June's tastings, gzip-compressed and uploaded without Content-Encoding. */
export const TASTINGS = gzipSync(`tasted_on,member_id,custard,stars
2026-06-06,1,vanilla,5
2026-06-06,4,burnt sugar,4
2026-06-13,7,pistachio,5
2026-06-13,3,butterscotch,3
2026-06-20,8,lemon curd,4
`);

/**
 * June's changes to the members, as AWS DMS writes its CDC files: no header, the operation
 * (`I`, `U`, `D`) first, then the table's columns, in the order the changes happened.
 * Bartholomew leaves; Gideon joins (liking vanilla, then pistachio: his last row wins);
 * Desmond's favourite changes; Edith's row is "updated" to what it already was; Hyacinth joins.
 */
export const MEMBER_CHANGES = `D,2,Bartholomew Trifle,2020-07-01,crème anglaise
I,7,Gideon Tart,2026-06-03,vanilla
U,4,Desmond Brûlée,2022-02-02,salted caramel
U,5,Edith Eggnog,2023-12-24,nutmeg
I,8,Hyacinth Jelly,2026-06-18,lemon curd
U,7,Gideon Tart,2026-06-03,pistachio
`;

/** The lines of {@link AUGUST_TASTINGS} that cannot load (1 is the header). */
export const AUGUST_BAD_LINES = [4, 6] as const;

/** August's tastings, plain CSV: line 4's stars are a word, line 6's date does not exist. */
export const AUGUST_TASTINGS = `tasted_on,member_id,custard,stars
2026-08-01,1,vanilla,5
2026-08-01,7,pistachio,4
2026-08-08,3,butterscotch,five
2026-08-15,8,lemon curd,5
2026-08-32,4,salted caramel,4
2026-08-22,6,rhubarb & custard,3
`;

/** Orders, in two parts a manifest lists. */
export const ORDERS_PART_1 = `order_id,member_id,custard,litres
101,1,vanilla,2.0
102,6,rhubarb & custard,1.5
103,5,nutmeg,0.5
`;
export const ORDERS_PART_2 = `order_id,member_id,custard,litres
104,7,pistachio,1.0
105,4,burnt sugar,3.0
106,8,lemon curd,0.5
`;

/** S3 keys of the sample files. */
export const KEYS = {
  may: "members/2026-05.csv",
  june: "members/2026-06.csv",
  july: "members/2026-07.csv",
  // After May's list in byte order too: merge skips an object older than one it merged (stale).
  changes: "members/cdc/20260630-120000000.csv",
  tastings: "tastings/2026-06.csv.gz",
  august: "tastings/2026-08.csv",
  part1: "orders/2026-06/part-1.csv",
  part2: "orders/2026-06/part-2.csv",
  manifest: "orders/2026-06.manifest",
} as const;

/** A Redshift-style manifest of both order parts. */
export const ORDERS_MANIFEST = `${JSON.stringify(
  {
    entries: [KEYS.part1, KEYS.part2].map((k) => ({
      url: `s3://${LANDING}/${k}`,
      mandatory: true,
    })),
  },
  null,
  2,
)}\n`;

/** One sample file: key, body and what to say about it. */
export interface SampleFile {
  key: string;
  body: string | Buffer;
  about: string;
}

/** Every sample file, in upload order (Last-Modified order matters to `switch`'s stale check). */
export const SAMPLE_FILES: readonly SampleFile[] = [
  { key: KEYS.may, body: MEMBERS_MAY, about: "6 members" },
  { key: KEYS.june, body: MEMBERS_JUNE, about: "7 members" },
  { key: KEYS.july, body: MEMBERS_JULY, about: `line ${BAD_LINE} is bad` },
  { key: KEYS.changes, body: MEMBER_CHANGES, about: "June's changes, AWS DMS CDC" },
  { key: KEYS.tastings, body: TASTINGS, about: "gzip, no Content-Encoding" },
  {
    key: KEYS.august,
    body: AUGUST_TASTINGS,
    about: `lines ${AUGUST_BAD_LINES.join(" and ")} are bad`,
  },
  { key: KEYS.part1, body: ORDERS_PART_1, about: "3 orders" },
  { key: KEYS.part2, body: ORDERS_PART_2, about: "3 orders" },
  { key: KEYS.manifest, body: ORDERS_MANIFEST, about: "lists both parts" },
];
