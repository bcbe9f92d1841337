// `npm run devices -- <command>`: the field engineers' CLI. The only file that reads process.* (STYLE.md,
// habit 2); everything else is runCli(argv, io).
import { runCli } from "./cli.ts";

const controller = new AbortController();
// Ctrl-C stops what the CLI is doing (watching, a request), never a commissioning run on the platform;
// a second Ctrl-C exits at once.
process.on("SIGINT", () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  // `npm run` changes into the package folder; INIT_CWD is where the user typed the command, which is what
  // relative paths such as `import poles.csv` mean.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  io: { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) },
  signal: controller.signal,
});
process.exitCode = code;
