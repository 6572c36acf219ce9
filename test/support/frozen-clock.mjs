/**
 * A Node preload for CLI child processes under test (`node --import <this> …`):
 * when LAVA_TEST_FROZEN_CLOCK holds an ISO time, `Date` is fixed at it — `new Date()`
 * and `Date.now()` — so a child signs exactly what the test computed. Test harness
 * only: production code never reads this variable. Replaces faketime, which a fresh
 * machine lacks. Plain JavaScript, so any Node the suite runs on can load it.
 */
const at = process.env.LAVA_TEST_FROZEN_CLOCK;
if (at) {
  const frozen = Date.parse(at);
  if (Number.isNaN(frozen)) throw new Error(`LAVA_TEST_FROZEN_CLOCK: not a time: ${at}`);
  const RealDate = Date;
  class FrozenDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(frozen);
      else super(...args);
    }
    static now() {
      return frozen;
    }
  }
  globalThis.Date = FrozenDate;
}
