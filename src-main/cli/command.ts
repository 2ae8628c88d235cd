/**
 * The shape every CLI command module has. `main.ts` dispatches `cnn-workbench <name> ...args` to `run(args)`.
 * Commands print to stdout/stderr themselves and return the process exit code.
 */
export interface CliCommand {
  /** The word typed after `cnn-workbench`. */
  name: string;
  /** One line for the top-level `--help` listing. */
  summary: string;
  /** Full usage text shown by `cnn-workbench <name> --help` and after a usage error. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * A mistake in how the CLI was called or in what it was given (a flag, a spec, a data file).
 * `main.ts` prints `message` without a stack trace and exits with code 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** Usage text to print after the message, when the mistake was in the flags. */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** Exit code for bad flags, specs and data files (as argparse and most Unix tools use). */
export const EXIT_USAGE = 2;
/** Exit code for a failure while doing the work (e.g. training diverged). */
export const EXIT_FAILURE = 1;
/**
 * Exit code for an export that was written but could not be verified (its data is missing or has changed):
 * distinct from 1, where the export was compared and disagrees.
 */
export const EXIT_NOT_VERIFIED = 3;
