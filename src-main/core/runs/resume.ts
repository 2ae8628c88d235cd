/**
 * Continuing a failed or stopped run from its last checkpoint (Keras' BackupAndRestore): the run folder gives
 * the spec, the hyperparameters, the data it saw and the epochs done; `checkpoint.bin` the state to go on from.
 * The run keeps its id and folder; its history is cut back to the checkpoint's epoch (an epoch recorded after
 * the last checkpoint, by a crash between the two writes, is trained again).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EpochResult } from '../../shared/contract';
import type { Hyperparameters, AnyModelSpec } from '../../shared/spec';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../fsutil';
import { readCheckpoint, type Checkpoint } from './checkpoint';
import { readHistory, RUN_FILES, RunStore, RunWriter, type RunRecord } from './store';

/** A run cannot be resumed: the message says which run and why. */
export class ResumeError extends Error {
  override name = 'ResumeError';
}

/** Everything a resumed run starts from. */
export interface ResumableRun {
  runId: string;
  dir: string;
  record: RunRecord;
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  /** The history up to the checkpoint's epoch. */
  history: EpochResult[];
  checkpoint: Checkpoint;
}

/** Reads run `runId` of `runsDir` and checks it can be resumed (failed or stopped, with a checkpoint). */
export async function loadResumableRun(runsDir: string, runId: string): Promise<ResumableRun> {
  const store = new RunStore(runsDir);
  const record = await store.record(runId);
  const dir = store.runDir(runId);
  if (record.status === 'running' || record.status === 'paused') {
    throw new ResumeError(`run ${runId} is still ${record.status} (pid ${record.pid}): stop it first`);
  }
  if (record.status !== 'failed' && record.status !== 'stopped') {
    throw new ResumeError(`run ${runId} ended ${record.status}: only a failed or stopped run can be resumed`);
  }
  const checkpoint = await readCheckpoint(dir);
  if (!checkpoint) {
    throw new ResumeError(`run ${runId} has no checkpoint (${path.join(dir, 'checkpoint.bin')}): no epoch finished before it ${record.status === 'stopped' ? 'stopped' : 'failed'}; start a new run`);
  }
  const [spec, hyperparameters, history] = await Promise.all([
    readJson<AnyModelSpec>(path.join(dir, RUN_FILES.spec)),
    readJson<Hyperparameters>(path.join(dir, RUN_FILES.hyperparameters)),
    readHistory(path.join(dir, RUN_FILES.history)),
  ]);
  if (history.length < checkpoint.epoch) {
    throw new ResumeError(`run ${runId}: its checkpoint is at epoch ${checkpoint.epoch} but history.jsonl holds ${history.length} epoch(s)`);
  }
  if (checkpoint.epoch >= hyperparameters.epochs) {
    throw new ResumeError(`run ${runId} already trained all ${hyperparameters.epochs} epochs; nothing to resume`);
  }
  return { runId, dir, record, spec, hyperparameters, history: history.slice(0, checkpoint.epoch), checkpoint };
}

/**
 * Marks the run running again in this process (its results of the interrupted attempt cleared: the history is
 * cut to the checkpoint, the stale evaluation removed) and returns its writer.
 */
export async function reopenRun(run: ResumableRun): Promise<RunWriter> {
  const record: RunRecord = {
    ...run.record,
    status: 'running',
    pid: process.pid,
    hostname: os.hostname(),
    finishedAt: null,
    epochsRun: run.history.length,
    bestEpoch: null,
    testAccuracy: null,
    testLoss: null,
    error: null,
  };
  await writeFileAtomic(path.join(run.dir, RUN_FILES.history), run.history.map((e) => JSON.stringify(e) + '\n').join(''));
  await fs.rm(path.join(run.dir, RUN_FILES.evaluation), { force: true });
  await writeJsonAtomic(path.join(run.dir, RUN_FILES.run), record);
  return new RunWriter(run.dir, record, [...run.history]);
}
