/**
 * Prefix-scoped S3 reads, built once for every principal that reads the realm's
 * objects (the runner's sources, the exe function's payloads, Aurora's import
 * role): object actions on `<bucket>/<prefix>*` and `s3:ListBucket` on the bucket
 * limited by `s3:prefix`. Hand-written because `Bucket.grantRead` also grants
 * `s3:List*`/`s3:GetBucket*` on the whole bucket with no prefix condition, which
 * would let the principal list other realms' keys.
 */
import { Arn, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";

/** A bucket and a key prefix, matched literally (`sales/` allows `sales/*`; `""` the whole bucket). */
export interface PrefixRead {
  readonly bucket: string;
  readonly keyPrefix: string;
}

/** `arn:<partition>:s3:::bucket[/key]`. */
export function s3ArnOf(stack: Stack, bucket: string, key?: string): string {
  return Arn.format({
    partition: stack.partition,
    service: "s3",
    region: "",
    account: "",
    resource: key === undefined ? bucket : `${bucket}/${key}`,
  });
}

export interface PrefixReadStatements {
  /** The object actions on every `<bucket>/<prefix>*`. */
  readonly objects: iam.PolicyStatement;
  /** One `s3:ListBucket` per bucket, in first-seen order. */
  readonly lists: iam.PolicyStatement[];
  /** Each bucket's literal prefixes after a whole-bucket read subsumed the others. */
  readonly prefixes: ReadonlyMap<string, readonly string[]>;
}

/**
 * The statements for `reads`. `sid` names them `Read<sid>` and `List<sid><i>`.
 * Without ListBucket S3 answers 403 instead of 404 for a missing object, so a
 * reader that must tell "missing" from "forbidden" needs both.
 */
export function prefixReadStatements(
  stack: Stack,
  reads: readonly PrefixRead[],
  options: { readonly objectActions: readonly string[]; readonly sid?: string },
): PrefixReadStatements {
  const byBucket = new Map<string, Set<string>>();
  for (const r of reads) {
    const set = byBucket.get(r.bucket) ?? new Set<string>();
    set.add(r.keyPrefix);
    byBucket.set(r.bucket, set);
  }
  const prefixes = new Map<string, readonly string[]>();
  for (const [bucket, set] of byBucket) prefixes.set(bucket, set.has("") ? [""] : [...set]);
  const sid = options.sid;
  const objects = new iam.PolicyStatement({
    ...(sid ? { sid: `Read${sid}` } : {}),
    actions: [...options.objectActions],
    resources: [...prefixes].flatMap(([bucket, ps]) =>
      ps.map((p) => s3ArnOf(stack, bucket, `${p}*`)),
    ),
  });
  const lists = [...prefixes].map(
    ([bucket, ps], i) =>
      new iam.PolicyStatement({
        ...(sid ? { sid: `List${sid}${i}` } : {}),
        actions: ["s3:ListBucket"],
        resources: [s3ArnOf(stack, bucket)],
        ...(ps[0] === ""
          ? {}
          : { conditions: { StringLike: { "s3:prefix": ps.map((p) => `${p}*`) } } }),
      }),
  );
  return { objects, lists, prefixes };
}
