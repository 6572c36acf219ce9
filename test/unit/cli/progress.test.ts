/** The CLI's progress bar (bin/cli/progress.ts): bytes, rows and their rates, on a terminal and not. */
import { describe, expect, it } from "vitest";
import { progressReporter, progressText } from "../../../bin/cli/progress";

/** A stream that keeps what is written; `isTTY` as a terminal's. */
function sink(tty: boolean) {
  const written: string[] = [];
  const out = {
    isTTY: tty,
    write: (chunk: string) => {
      written.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, written };
}

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const OBJ = "s3://landing/big.csv";

describe("progressText", () => {
  it("says the bytes, the share and MB/s, then rows and rows/s when counted", () => {
    expect(progressText({ object: OBJ, bytes: 12e6, totalBytes: 40e6, rows: 120_000 }, 4)).toBe(
      `${OBJ} 12.0/40.0 MB (30%, 3.0 MB/s), 120,000 rows, 30,000 rows/s`,
    );
    expect(progressText({ object: OBJ, bytes: 12e6, totalBytes: 40e6 }, 4)).toBe(
      `${OBJ} 12.0/40.0 MB (30%, 3.0 MB/s)`,
    );
    // An empty object is complete; no time is no division by zero.
    expect(progressText({ object: OBJ, bytes: 0, totalBytes: 0, rows: 0 }, 0)).toBe(
      `${OBJ} 0.0/0.0 MB (100%, 0.0 MB/s), 0 rows, 0 rows/s`,
    );
  });
});

describe("progressReporter", () => {
  it("redraws one bar on a terminal at most every 100 ms, and always at an object's end", () => {
    const { out, written } = sink(true);
    const t = clock();
    const progress = progressReporter(out, t.now);
    t.advance(1000);
    progress.report({ object: OBJ, bytes: 10e6, totalBytes: 40e6, rows: 50_000 });
    t.advance(50);
    progress.report({ object: OBJ, bytes: 11e6, totalBytes: 40e6, rows: 55_000 }); // too soon
    t.advance(950);
    progress.report({ object: OBJ, bytes: 40e6, totalBytes: 40e6, rows: 200_000 });
    progress.done();
    expect(written).toEqual([
      `\r[########......................] ${OBJ} 10.0/40.0 MB (25%, 10.0 MB/s), 50,000 rows, 50,000 rows/s\u001b[K`,
      `\r[##############################] ${OBJ} 40.0/40.0 MB (100%, 20.0 MB/s), 200,000 rows, 100,000 rows/s\u001b[K`,
      "\n",
    ]);
  });

  it("writes a line every 5 s otherwise, and one at an object's end; the next object's rates start there", () => {
    const { out, written } = sink(false);
    const t = clock();
    const progress = progressReporter(out, t.now);
    t.advance(2000);
    progress.report({ object: OBJ, bytes: 1e6, totalBytes: 8e6, rows: 10_000 });
    t.advance(1000);
    progress.report({ object: OBJ, bytes: 2e6, totalBytes: 8e6, rows: 20_000 }); // within 5 s
    t.advance(5000);
    progress.report({ object: OBJ, bytes: 8e6, totalBytes: 8e6, rows: 80_000 });
    t.advance(2000);
    progress.report({ object: "s3://landing/next.csv", bytes: 4e6, totalBytes: 4e6, rows: 9 });
    progress.done();
    expect(written).toEqual([
      `${OBJ} 1.0/8.0 MB (13%, 0.5 MB/s), 10,000 rows, 5,000 rows/s\n`,
      `${OBJ} 8.0/8.0 MB (100%, 1.0 MB/s), 80,000 rows, 10,000 rows/s\n`,
      "s3://landing/next.csv 4.0/4.0 MB (100%, 2.0 MB/s), 9 rows, 5 rows/s\n",
    ]);
  });

  it("shows bytes only where the load does not count rows", () => {
    const { out, written } = sink(false);
    const t = clock();
    const progress = progressReporter(out, t.now);
    t.advance(1000);
    progress.report({ object: OBJ, bytes: 3e6, totalBytes: 3e6 });
    expect(written).toEqual([`${OBJ} 3.0/3.0 MB (100%, 3.0 MB/s)\n`]);
  });
});
