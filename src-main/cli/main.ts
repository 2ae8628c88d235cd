/**
 * `cnn-workbench` — the command-line entry point (run through tsx by bin/cnn-workbench.js).
 *
 * CONVENTION for adding a command (serve, export, predict, …):
 *   1. Create `src-main/cli/commands/<name>.ts` exporting `export const command: CliCommand = {...}`
 *      (see `./command.ts`: name, summary, usage, run(args) → exit code). Parse flags with `parseFlags`
 *      (./util: strict `node:util` parseArgs), throw `UsageError` for bad input (printed without a stack trace,
 *      exit code 2). Import the core inside `run`, after the flags are checked, so `--help` stays light.
 *   2. Add ONE line to `COMMANDS` below: `<name>: () => import('./commands/<name>'),`
 * Modules load lazily, so `cnn-workbench --help` never pays for tfjs and one broken command cannot
 * stop the others from running.
 */
import { EXIT_FAILURE, EXIT_USAGE, UsageError, type CliCommand } from './command';

type CommandLoader = () => Promise<{ command: CliCommand }>;

/** The dispatch table: one line per command. */
export const COMMANDS: Record<string, CommandLoader> = {
  summary: () => import('./commands/summary'),
  train: () => import('./commands/train'),
  serve: () => import('./commands/serve'),
  app: () => import('./commands/app'),
  export: () => import('./commands/export'),
  predict: () => import('./commands/predict'),
  explain: () => import('./commands/explain'),
  embed: () => import('./commands/embed'),
  import: () => import('./commands/import'),
};

async function printHelp(): Promise<void> {
  const lines = ['Usage: cnn-workbench <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    let summary: string;
    try {
      summary = (await load()).command.summary;
    } catch {
      summary = '(unavailable: failed to load)';
    }
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  lines.push('', 'Run `cnn-workbench <command> --help` for the options of one command.');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Runs the CLI on `argv` (without node and the script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name === undefined ? EXIT_USAGE : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`cnn-workbench: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}.\n`);
    return EXIT_USAGE;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`cnn-workbench ${name}: ${err.message}\n`);
      if (err.usage) process.stderr.write('\n' + err.usage + '\n');
      return EXIT_USAGE;
    }
    // Anything else is our bug or an environment failure: one clear line, the stack only on request.
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`cnn-workbench ${name}: ${e.name === 'Error' ? '' : e.name + ': '}${e.message}\n`);
    if (process.env.CNN_WORKBENCH_DEBUG) process.stderr.write((e.stack ?? '') + '\n');
    return EXIT_FAILURE;
  }
}

// Run only when executed as the CLI, not when a test imports `main`.
const entry = process.argv[1] ?? '';
if (/cnn-workbench(\.js)?$|cli[\\/]main\.ts$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`cnn-workbench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
