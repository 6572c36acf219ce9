/**
 * The `lava-aurora` command. Kept small so it starts fast: each command's
 * code (and the AWS SDK, pg, …) is imported only when that command runs.
 * Exit codes: 0 success, 1 runtime failure, 2 usage or spec error.
 */
import { Command, CommanderError, Option } from "commander";
import type { DbSetupFlags } from "./cli/db-setup";
import { EXIT, reportError } from "./cli/errors";
import type { RealmFlags } from "./cli/realm";
import type { RunFlags } from "./cli/run";

/** Replaced by the package version when esbuild bundles the CLI. */
declare const __LAVA_AURORA_VERSION__: string;

const program = new Command("lava-aurora")
  .description("Load S3 files into Aurora PostgreSQL the lava way: realm checks, psql, passwords.")
  .version(__LAVA_AURORA_VERSION__)
  .exitOverride()
  .showHelpAfterError("(run with --help for usage)");

/** `--realm NAME` (= realms/NAME.yaml) or `--realm-file FILE`. */
function realmOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--realm <name>", "realm name: reads realms/<name>.yaml").conflicts("realmFile"),
    )
    .addOption(new Option("--realm-file <file>", "path of a realm file").conflicts("realm"));
}

realmOptions(
  program
    .command("check")
    .description("validate a realm file; one line per problem, exit 2 if any")
    .option("--json", "print the summary (or the problems) as JSON"),
).action(async (flags: RealmFlags & { json?: boolean }) => {
  const { checkCommand } = await import("./cli/check");
  process.exitCode = await checkCommand(flags);
});

realmOptions(
  program
    .command("psql")
    .description(
      "run psql connected to a connection of the realm; extra arguments after -- go to psql",
    )
    .argument("<conn_id>", "the connection's conn_id")
    .argument("[psql_args...]", "arguments passed through to psql"),
).action(async (connId: string, psqlArgs: string[], flags: RealmFlags) => {
  const { psqlCommand } = await import("./cli/psql");
  process.exitCode = await psqlCommand(connId, psqlArgs, flags);
});

realmOptions(
  program
    .command("put-password")
    .description(
      "store stdin (one trailing newline stripped) as an SSM SecureString under /lava/<realm>/",
    )
    .argument("<param>", "SSM parameter name, e.g. /lava/dev/pg-main")
    .option("--overwrite", "replace an existing parameter", false)
    .option("--json", "print what was stored as JSON"),
).action(async (param: string, flags: RealmFlags & { overwrite: boolean; json?: boolean }) => {
  const { putPasswordCommand } = await import("./cli/put-password");
  process.exitCode = await putPasswordCommand(param, flags);
});

const collect = (value: string, previous: string[]) => [...previous, value];

realmOptions(
  program
    .command("run")
    .description("run a job locally through the same runner as Lambda; prints the result as JSON")
    .argument("<job_id>", "the job's job_id")
    .option(
      "--param <K=V>",
      "dispatch parameter (V parsed as JSON when it parses); repeatable",
      collect,
      [],
    )
    .option(
      "--global <K=V>",
      "dispatch global (V parsed as JSON when it parses); repeatable",
      collect,
      [],
    )
    .option(
      "--run-id <id>",
      "run under this run id (a db_from_s3 job's is a UUID): a fan-out load that failed resumes with the items it has not loaded",
    )
    .option(
      "--remote",
      "start an execution of the deployed realm's state machine instead of running here",
    )
    .option("--wait", "with --remote: wait for the execution and print its result")
    .option("--poll-interval <seconds>", "with --wait: seconds between status checks", "2")
    .option("--json", "print the result as JSON (it always is)"),
).action(async (jobId: string, flags: RunFlags) => {
  const { runCommand } = await import("./cli/run");
  process.exitCode = await runCommand(jobId, flags);
});

realmOptions(
  program
    .command("redrive")
    .description(
      "redrive a failed execution of the deployed realm's state machine: it resumes where it failed (a chain at its failed child)",
    )
    .argument("<execution>", "the execution's ARN or name")
    .option("--json", "print the execution and the redrive's time as JSON"),
).action(async (execution: string, flags: RealmFlags & { json?: boolean }) => {
  const { redriveCommand } = await import("./cli/redrive");
  process.exitCode = await redriveCommand(execution, flags);
});

realmOptions(
  program
    .command("runs")
    .description(
      "list the deployed realm's executions, newest first, with each one's job and outcome; with --conn also lava.run_log's rows",
    )
    .option("--job <job_id>", "only runs of this job")
    .option("--since <duration>", "runs started this long ago or since (30m, 12h, 7d)", "1d")
    .option("--failed", "only failed, timed-out and aborted runs")
    .option(
      "--conn <conn_id>",
      "also read lava.run_log in this connection's database (from where it is reachable)",
    )
    .option("--limit <n>", "at most this many executions (and run log rows)", "50")
    .option("--json", "print the report as JSON"),
).action(async (flags: import("./cli/runs").RunsFlags) => {
  const { runsCommand } = await import("./cli/runs");
  process.exitCode = await runsCommand(flags);
});

realmOptions(
  program
    .command("tail")
    .description(
      "follow the deployed realm's executions: those running, new and redriven ones, and each one's outcome when it ends",
    )
    .option("--job <job_id>", "only executions of this job")
    .option("--for <duration>", "stop after this long (30s, 10m); default: until interrupted")
    .option("--poll-interval <seconds>", "seconds between looks", "2")
    .option("--json", "one JSON object per line (event: running, started, finished)"),
).action(async (flags: import("./cli/tail").TailFlags) => {
  const { tailCommand } = await import("./cli/tail");
  process.exitCode = await tailCommand(flags);
});

realmOptions(
  program
    .command("show")
    .description(
      "show an execution of the deployed realm's state machine: the states it went through, retries, the result or the error and cause",
    )
    .argument("<execution>", "the execution's ARN or name")
    .option("--json", "print the report as JSON"),
).action(async (execution: string, flags: RealmFlags & { json?: boolean }) => {
  const { showCommand } = await import("./cli/show");
  process.exitCode = await showCommand(execution, flags);
});

realmOptions(
  program
    .command("db-setup")
    .description(
      "check what loads need in a connection's database (aws_s3, ledger, run log, rds_iam, schemas); create the ledger and run log if allowed; --admin CONN --apply fixes the rest",
    )
    .argument("<conn_id>", "the connection's conn_id")
    .option(
      "--admin <conn_id>",
      "with --apply: a connection with the rights to fix what is missing",
    )
    .option("--apply", "run the fixing statements on the --admin connection, then check again")
    .option("--json", "print the checks (and what --apply ran) as JSON"),
).action(async (connId: string, flags: DbSetupFlags) => {
  const { dbSetupCommand } = await import("./cli/db-setup");
  process.exitCode = await dbSetupCommand(connId, flags);
});

program
  .command("demo")
  .description(
    "show lava-aurora loading S3 files in a throwaway local world (PostgreSQL, S3, SSM); exit 0 if all went as expected",
  )
  .option("--keep", "leave the world running until Ctrl-C and print how to connect", false)
  .action(async (flags: { keep: boolean }) => {
    const { demoCommand } = await import("./cli/demo/index");
    process.exitCode = await demoCommand(flags);
  });

realmOptions(
  program
    .command("trigger")
    .description(
      "match an S3 object (or a raw Lambda event) against the realm's s3triggers and dispatch",
    )
    .argument("[s3_url]", "s3://BUCKET/KEY of the object")
    .option("--size <size>", "object size (bytes, 10KB, 1MiB)", "0")
    .option("--event-type <type>", "S3 event type", "ObjectCreated:Put")
    .option(
      "--event <file>",
      "a raw Lambda event (S3, SNS, SQS or EventBridge envelope); - for stdin",
    )
    .option("--dry-run", "print the dispatches only; no AWS call")
    .option("--local", "run each dispatched job here, through the runner")
    .option("--json", "print the dispatches, results or executions as JSON (they always are)"),
).action(async (url: string | undefined, flags: import("./cli/trigger").TriggerFlags) => {
  const { triggerCommand } = await import("./cli/trigger");
  process.exitCode = await triggerCommand(url, flags);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportError(err);
  }
}
