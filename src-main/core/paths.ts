import os from 'node:os';
import path from 'node:path';

/**
 * The user's workbench folder: datasets they imported or downloaded, and their runs.
 * `CNN_WORKBENCH_HOME` overrides it (the Electron app points it at its userData folder; tests at a temp dir).
 */
export function workbenchHome(): string {
  return process.env.CNN_WORKBENCH_HOME ?? path.join(os.homedir(), '.cnn-workbench');
}

/** Where runs are written unless a caller says otherwise. */
export function defaultRunsDir(): string {
  return path.join(workbenchHome(), 'runs');
}

/** The user's data folder, searched before the system-wide Debian dataset. */
export function userDataDir(): string {
  return path.join(workbenchHome(), 'datasets');
}
