/**
 * The training worker thread: loads the dataset, runs `runTraining` with a `TrainControl` driven by the
 * main thread's messages, and reports back — batch progress throttled (at most one message per
 * `progressIntervalMs`), every epoch, then exactly one `finished` or `failed`. tfjs and all the number
 * crunching live here, so the thread serving the UI never blocks.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { Dataset } from '../core/data/index';
import type { FromWorker, ToWorker, WorkerData, WorkerTrainingJob } from './protocol';
import { TaskQueue } from './tasks';

/** The dataset a standby worker reads ahead of time: the one the workbench opens with. */
const DEFAULT_DATASET = 'fashion-mnist';

if (!parentPort) throw new Error('training-worker.ts must run as a worker thread');
const port = parentPort;
const post = (message: FromWorker): void => port.postMessage(message);

function wireError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

/**
 * Lowers this thread's CPU priority (Linux: a thread is a task with its own nice value, found through
 * /proc/thread-self), so when training saturates the cores the thread serving the UI still wins the CPU
 * the moment it wakes. Threads the backend starts later (BLAS, wasm) inherit it. Elsewhere setPriority
 * would lower the whole process, UI included, so it is left alone.
 */
function yieldCpuToTheUi(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // No /proc or not permitted: training still works, only at the UI's priority.
  }
}

async function main(data: WorkerData): Promise<void> {
  yieldCpuToTheUi();
  if (data.mode === 'explain') {
    await (await import('./explain-host')).serveExplain(port);
    return;
  }
  if (data.mode === 'probe') {
    const { initBackend } = await import('../core/backend/index');
    post({ type: 'backend', backend: await initBackend() });
    return;
  }
  if (data.mode === 'tasks') {
    // Export and predict while the standby worker trains: the backend first, then the tasks as they come.
    const queue = new TaskQueue(post, import('../core/backend/index').then((m) => m.initBackend()));
    port.on('message', (m: ToWorker) => {
      if (m.type === 'task') queue.push(m.id, m.task);
    });
    return;
  }
  let preloaded: Dataset | null = null;
  let job: WorkerTrainingJob;
  /** Standby: its listener, kept until the run's own is on, and the controls it caught meanwhile. */
  let standbyListener: ((m: ToWorker) => void) | null = null;
  const earlyControls: ToWorker[] = [];
  if (data.mode === 'standby') {
    // Pay the start-up costs (module loading, backend, reading the default dataset) before anyone waits.
    // Failures here are left for the run itself to meet and report.
    const backendReady = (async () => {
      const [{ initBackend }] = await Promise.all([import('../core/backend/index'), import('../core/data/index'), import('../core/train/train')]);
      const backend = await initBackend();
      post({ type: 'backend', backend });
    })();
    // Tasks (export, predict) wait only for the backend, not for the dataset. One listener from the start takes
    // both tasks and the job: once a 'message' listener exists the port delivers, so a job arriving while the
    // dataset still loads must not meet a listener that ignores it.
    const queue = new TaskQueue(post, backendReady);
    let takeJob: (job: WorkerTrainingJob) => void = () => undefined;
    const jobArrived = new Promise<WorkerTrainingJob>((resolve) => (takeJob = resolve));
    const onMessage = (m: ToWorker): void => {
      if (m.type === 'task') queue.push(m.id, m.task);
      else if (m.type === 'job') takeJob(m.job);
      else earlyControls.push(m);
    };
    standbyListener = onMessage;
    port.on('message', onMessage);
    try {
      await backendReady;
      const { loadDataset } = await import('../core/data/index');
      preloaded = await loadDataset(DEFAULT_DATASET, { download: false });
    } catch {
      preloaded = null;
    }
    job = await jobArrived;
    // Tasks sent before the job are answered first; none come after it (main sends them elsewhere).
    await queue.idle();
  } else {
    job = data.job;
  }
  const [{ runTraining, TrainingError }, { TrainControl }, { loadDataset, modelInputShape }] = await Promise.all([
    import('../core/train/train'),
    import('../core/train/control'),
    import('../core/data/index'),
  ]);
  const control = new TrainControl();
  const apply = (m: ToWorker): void => {
    if (m.type !== 'control') return;
    if (m.action === 'pause') control.pause();
    else if (m.action === 'resume') control.resume();
    else control.stop();
  };
  // While paused (or loading) the event loop is free and delivers messages as events.
  port.on('message', apply);
  if (standbyListener) port.off('message', standbyListener);
  // A pause or stop sent while the standby finished its tasks and loaded the trainer.
  for (const m of earlyControls.splice(0)) apply(m);
  /**
   * While training, the batch loop can run for a whole epoch without yielding to the event loop (the
   * backends resolve each step as microtasks), so 'message' events would wait for the epoch's end. Each
   * batch therefore drains the port synchronously, and pause/stop take effect after the current batch.
   */
  const drainControl = (): void => {
    for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) apply(r.message as ToWorker);
  };

  /** An image folder is read as the model takes it: the request's model is the user's choice of size and colour. */
  const imagesFor = (spec: WorkerTrainingJob['spec']) => {
    const shape = modelInputShape(spec);
    return shape ? { imageSize: [shape[0], shape[1]] as [number, number], modelChannels: shape[2] } : undefined;
  };
  let runId: string | null = null;
  let lastSent = 0;
  try {
    // runTraining applies the job's limits itself, so the preloaded full set trains exactly as a fresh load would.
    const dataset =
      preloaded && job.datasetId === DEFAULT_DATASET
        ? preloaded
        : await loadDataset(job.datasetId, { limitTrain: job.limitTrain, limitTest: job.limitTest, download: false, images: imagesFor(job.spec) });
    const resuming = job.resumeRunId ? await import('../core/runs/resume') : null;
    const resume = resuming && job.resumeRunId ? await resuming.loadResumableRun(job.runsDir, job.resumeRunId) : undefined;
    if (resuming && resume && resume.record.dataset.fingerprint !== dataset.info.fingerprint) {
      throw new resuming.ResumeError(`run ${resume.runId} trained on other data than ${job.datasetId} holds now (its fingerprint changed): it cannot continue`);
    }
    const finished = await runTraining(
      { spec: job.spec, hyperparameters: job.hyperparameters, dataset, runsDir: job.runsDir, limitTrain: job.limitTrain, limitTest: job.limitTest, resume, initialWeights: job.initialWeights, evaluateOnly: job.evaluateOnly },
      {
        onStart(id, backend) {
          runId = id;
          post({ type: 'started', runId: id, backend });
        },
        onBatch(progress) {
          drainControl();
          const now = Date.now();
          // The last batch of an epoch always goes out, so a bar never stalls short of 100%.
          if (now - lastSent >= job.progressIntervalMs || progress.batch === progress.batchesPerEpoch) {
            lastSent = now;
            post({ type: 'progress', progress });
          }
        },
        onEpoch(epoch) {
          post({ type: 'epoch', epoch });
        },
        onLog(message) {
          post({ type: 'log', message });
        },
      },
      control,
    );
    post({ type: 'finished', finished });
  } catch (err) {
    const id = runId ?? (err instanceof TrainingError ? err.runId : null);
    post({ type: 'failed', runId: id, error: wireError(err) });
  }
}

void main(workerData as WorkerData).catch((err: unknown) => {
  post({ type: 'failed', runId: null, error: wireError(err) });
});
