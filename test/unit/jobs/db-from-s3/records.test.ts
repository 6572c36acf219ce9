/**
 * records.ts's counting and scanning against naive references: newlines counted
 * four bytes at a time whatever the buffer's alignment and range, and record ends
 * found the same whether a stream is scanned whole or chunk by chunk.
 */
import { describe, expect, it } from "vitest";
import { countLines, freshState, scanRecords } from "../../../../lambda/jobs/db-from-s3/records";

const naive = (buf: Buffer, start = 0, end = buf.length) => {
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i] === 0x0a) n += 1;
  return n;
};

/** A deterministic pseudo-random sequence. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

describe("countLines", () => {
  it("counts as a byte-by-byte count does, at any offset and range", () => {
    const rnd = random(7);
    for (let t = 0; t < 2000; t++) {
      const len = rnd(3000);
      const big = Buffer.alloc(len + 8);
      const density = [1, 2, 40][rnd(3)] as number;
      for (let i = 0; i < big.length; i++)
        big[i] = rnd(density) === 0 ? 0x0a : ([0, 9, 11, 0x8a, 0xff][rnd(5)] as number);
      const off = rnd(8);
      const buf = big.subarray(off, off + len);
      const a = rnd(len + 1);
      const b = a + rnd(len - a + 1);
      expect(countLines(buf)).toBe(naive(buf));
      expect(countLines(buf, a, b)).toBe(naive(buf, a, b));
    }
  });

  it("counts a megabyte of newlines (every lane full)", () => {
    expect(countLines(Buffer.alloc(1 << 20, 0x0a))).toBe(1 << 20);
  });
});

describe("scanRecords", () => {
  const csv = { csv: true, quote: 0x22, escape: 0x22, delimiter: "," };
  it("finds the same last record end chunk by chunk as with every end listed", () => {
    const rnd = random(11);
    const alphabet = ["a", ",", "\n", '"', "b"];
    for (let t = 0; t < 2000; t++) {
      const text = Array.from({ length: rnd(60) }, () => alphabet[rnd(5)]).join("");
      const buf = Buffer.from(text);
      const ends: number[] = [];
      scanRecords(buf, 0, csv, freshState(), ends);
      // Chunk by chunk, as copyInBatches reads: the state carries over, and each chunk
      // answers the last record end within it.
      const state = freshState();
      const cut = 1 + rnd(7);
      for (let i = 0; i < buf.length; i += cut) {
        const chunk = buf.subarray(i, i + cut);
        const inside = ends.filter((e) => e > i && e <= i + chunk.length);
        expect(scanRecords(chunk, 0, csv, state)).toBe(
          inside.length ? (inside.at(-1) as number) - i : -1,
        );
      }
    }
  });

  it("reads a long buffer without quotes a bounded number of times over", () => {
    const buf = Buffer.from("1,abc\n".repeat(200_000));
    // Bytes each search reads (to its hit, or to the end): a search for a quote per
    // record would read the rest of the buffer once per record (quadratic).
    let read = 0;
    const indexOf = buf.indexOf.bind(buf);
    const lastIndexOf = buf.lastIndexOf.bind(buf);
    Object.assign(buf, {
      indexOf: (c: number, from = 0) => {
        const at = indexOf(c, from);
        read += (at < 0 ? buf.length : at + 1) - from;
        return at;
      },
      lastIndexOf: (c: number) => {
        const at = lastIndexOf(c);
        read += buf.length - at;
        return at;
      },
    });
    const ends: number[] = [];
    expect(scanRecords(buf, 0, csv, freshState(), ends)).toBe(buf.length);
    expect(ends).toHaveLength(200_000);
    expect(read).toBeLessThanOrEqual(2 * buf.length);
    read = 0;
    expect(scanRecords(buf, 0, csv, freshState())).toBe(buf.length);
    expect(read).toBeLessThanOrEqual(2 * buf.length);
  });
});
