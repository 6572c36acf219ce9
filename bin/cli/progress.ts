/** Load progress on stderr: a redrawn bar on a terminal, an occasional line otherwise. */
import type { Progress } from "../../lambda/jobs/types";

const mb = (n: number) => (n / 1e6).toFixed(1);
const count = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * A progress line: `<object> 12.0/40.0 MB (30%, 3.0 MB/s), 120,000 rows, 30,000 rows/s`,
 * the rates over `seconds` (since the object began); rows when the load counts them.
 */
export function progressText(p: Progress, seconds: number): string {
  const s = Math.max(0.001, seconds);
  const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 1;
  const bytes = `${mb(p.bytes)}/${mb(p.totalBytes)} MB (${Math.round(frac * 100)}%, ${mb(p.bytes / s)} MB/s)`;
  const rows = p.rows === undefined ? "" : `, ${count(p.rows)} rows, ${count(p.rows / s)} rows/s`;
  return `${p.object} ${bytes}${rows}`;
}

/**
 * A progress callback writing to `out`; call `done()` when the run ends. An
 * object's rates count from when the one before it ended (or from the start).
 */
export function progressReporter(
  out: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr,
  clock: () => number = Date.now,
) {
  const tty = "isTTY" in out && out.isTTY === true;
  const width = 30;
  let last = 0;
  let drawn = false;
  let object: string | undefined;
  let objectStart = clock();
  let lastSeen = objectStart;
  const report = (p: Progress) => {
    const now = clock();
    if (p.object !== object) {
      if (object !== undefined) objectStart = lastSeen;
      object = p.object;
    }
    lastSeen = now;
    const complete = p.bytes >= p.totalBytes;
    if (!complete && now - last < (tty ? 100 : 5000)) return;
    last = now;
    const text = progressText(p, (now - objectStart) / 1000);
    if (tty) {
      const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 1;
      const filled = Math.round(frac * width);
      out.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}\u001b[K`);
      drawn = true;
    } else out.write(`${text}\n`);
  };
  return {
    report,
    done: () => {
      if (drawn) out.write("\n");
    },
  };
}
