/**
 * `lava-aurora demo [--keep]`: lava-aurora doing its job on this machine, in a throwaway world.
 * Exit 0 only if every check held; everything started is stopped and removed in every outcome,
 * Ctrl-C included.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { defaultJobDeps } from "../deps";
import { EXIT } from "../errors";
import { usePgBin } from "../local-world/pg-process";
import { keepInstructions } from "./keep";
import { preflight } from "./preflight";
import { Printer, useColour } from "./print";
import type { DemoWorld } from "./world";

/** Flags of `lava-aurora demo`. */
export interface DemoFlags {
  /** Leave the world running until Ctrl-C and say how to connect. */
  keep?: boolean;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
type Signal = keyof typeof SIGNALS;

// The demo talks to local stand-ins only: ambient AWS settings must not reach them.
const AMBIENT = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
];

/** Run the demo; resolves to the exit code. */
export async function demoCommand(flags: DemoFlags): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // A closed pipe (`lava-aurora demo | head`) must not skip the clean-up: stop writing, carry on.
  process.stdout.on("error", () => undefined);
  const print = new Printer(
    process.stdout,
    useColour(process.stdout, process.env),
    process.stdout.columns,
  );
  const fit = preflight();
  if (!fit.ok) {
    process.stderr.write(`lava-aurora demo: cannot start:\n${fit.problems.join("\n")}\n`);
    return EXIT.failed;
  }
  usePgBin(fit.pgBin);

  let starting: Promise<DemoWorld> | undefined;
  let world: DemoWorld | undefined;
  let phase: "running" | "keeping" | "cleaning" = "running";
  let release: (() => void) | undefined;
  let interrupted: Signal | undefined;
  const onSignal = (signal: Signal) => {
    if (phase === "keeping") return release?.();
    if (phase === "cleaning" || interrupted) return;
    interrupted = signal;
    // The story fails from here on (the harness stops the cluster at once): say nothing of it.
    print.mute();
    process.stderr.write(`\n${signal}: stopping and cleaning up\n`);
    // A world still starting is let finish (or fail and clean itself up), then stopped.
    const stop = (starting ?? Promise.resolve(undefined)).then(
      (w) => w?.stop(),
      () => undefined,
    );
    void stop.finally(() => process.exit(128 + SIGNALS[signal]));
  };
  for (const s of Object.keys(SIGNALS) as Signal[]) process.on(s, onSignal);

  const started = Date.now();
  let waited = 0;
  let crashed = false;
  try {
    print.title("lava-aurora demo: S3 files into PostgreSQL tables, exactly once");
    print.step("Start a throwaway world: PostgreSQL, an S3 server, SSM, aws_s3");
    const { startDemoWorld } = await import("./world");
    starting = startDemoWorld();
    world = await starting;
    for (const k of AMBIENT) delete process.env[k];
    Object.assign(process.env, world.env);
    const { tellStory } = await import("./story");
    await tellStory(world, print, defaultJobDeps());
  } catch (err) {
    crashed = true;
    const e = err instanceof Error ? err : new Error(String(err));
    const [first = "", ...rest] = e.message.split("\n").filter((l) => l.trim() !== "");
    print.check(false, `cannot go on: ${e.name === "Error" ? "" : `${e.name}: `}${first}`);
    for (const l of rest) print.note(l);
  }

  if (flags.keep && world && !interrupted) {
    const t0 = Date.now();
    phase = "keeping";
    print.para("The world keeps running (--keep). In another shell, in this directory:");
    for (const l of keepInstructions(world.env, world.realmFile)) print.raw(`  ${l}`);
    print.para("Press Ctrl-C here to stop everything and clean up.");
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    waited = Date.now() - t0;
  }
  phase = "cleaning";

  print.step("Clean up");
  await world?.stop();
  const leftovers = world
    ? [world.cluster.socketDir, world.s3.directory, dirname(world.realmFile)].filter(exists)
    : [];
  print.check(
    leftovers.length === 0,
    leftovers.length === 0
      ? "PostgreSQL stopped, S3 server and SSM stub closed, temporary files removed"
      : `left behind: ${leftovers.join(", ")}`,
  );
  for (const s of Object.keys(SIGNALS) as Signal[]) process.off(s, onSignal);

  const seconds = ((Date.now() - started - waited) / 1000).toFixed(1);
  const ok = print.failures === 0 && !crashed;
  const mark = ok ? print.style("green", "✓") : print.style("red", "✗");
  print.para(
    ok
      ? `${mark} All ${print.checks} checks held, in ${seconds} s.`
      : `${mark} ${print.failures} of ${print.checks} checks failed (${seconds} s).`,
  );
  if (interrupted) return 128 + SIGNALS[interrupted];
  return ok ? EXIT.ok : EXIT.failed;
}

function exists(path: string): boolean {
  try {
    return statSync(path) !== undefined;
  } catch {
    return false;
  }
}
