/** Load progress on stderr: a redrawn bar on a terminal, an occasional line otherwise. */
import type { Progress } from "../../lambda/jobs/types";

const mb = (n: number) => (n / 1e6).toFixed(1);

/** A progress callback writing to `out`; call `done()` when the run ends. */
export function progressReporter(out: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr) {
  const tty = "isTTY" in out && out.isTTY === true;
  const width = 30;
  let last = 0;
  let drawn = false;
  const t0 = Date.now();
  const report = (p: Progress) => {
    const now = Date.now();
    const complete = p.bytes >= p.totalBytes;
    if (!complete && now - last < (tty ? 100 : 5000)) return;
    last = now;
    const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 1;
    const rate = mb(p.bytes / Math.max(0.001, (now - t0) / 1000));
    const text = `${p.object} ${mb(p.bytes)}/${mb(p.totalBytes)} MB (${Math.round(frac * 100)}%, ${rate} MB/s)`;
    if (tty) {
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
