/**
 * The worker side of `WorkerTask`s: export, predict and zip, one at a time, each answered with `taskDone` or
 * `taskFailed` (and `taskProgress` lines while an export runs). The core is imported on first use, inside
 * the worker thread.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExportedFile } from '../shared/contract';
import type { FromWorker, WorkerTask, WorkerTaskResults } from './protocol';

type Post = (message: FromWorker) => void;

function wireError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Every file under `dir`, relative names with '/' separators, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<ExportedFile[]> {
  const out: ExportedFile[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, `${prefix}${entry.name}/`)));
    else if (entry.isFile()) out.push({ name: `${prefix}${entry.name}`, bytes: (await stat(full)).size });
  }
  return out;
}

async function execute(id: number, task: WorkerTask, post: Post): Promise<WorkerTaskResults[keyof WorkerTaskResults]> {
  switch (task.kind) {
    case 'export': {
      const { exportModel } = await import('../core/export/index');
      const report = await exportModel(task.runDir, task.format, task.outDir, {
        onStage: (stage, message) => post({ type: 'taskProgress', id, stage, message }),
      });
      return { ...report, files: await listFiles(report.path) };
    }
    case 'predict': {
      const { predictImages } = await import('../core/predict/index');
      return predictImages(task.runDir, task.images, { invert: task.invert, withInput: true });
    }
    case 'predictTest': {
      const { predictTestImages } = await import('../core/predict/index');
      return predictTestImages(task.runDir, task.indices);
    }
    case 'augmentPreview': {
      const [{ previewAugmentation }, { loadDatasetCached }] = await Promise.all([import('../core/model/augment-preview'), import('../core/data/catalog')]);
      const ds = await loadDatasetCached(task.datasetId);
      return previewAugmentation(task.spec, ds.train, task.imageIndex, task.seed);
    }
    case 'zip': {
      const { zipSync } = await import('fflate');
      const files = await listFiles(task.dir);
      const root = task.fileName.replace(/\.zip$/, '');
      const entries: Record<string, Uint8Array> = {};
      // Inside one folder, so unpacking never scatters files into the user's Downloads.
      for (const f of files) entries[`${root}/${f.name}`] = new Uint8Array(await readFile(path.join(task.dir, f.name)));
      const zipped = zipSync(entries, { level: 6 });
      return { fileName: task.fileName, base64: Buffer.from(zipped.buffer, zipped.byteOffset, zipped.byteLength).toString('base64') };
    }
  }
}

/**
 * Runs tasks in arrival order. `ready` is awaited first (the backend being set up); `idle()` resolves once
 * every task received so far has been answered (a standby worker finishes them before it trains).
 */
export class TaskQueue {
  private tail: Promise<void>;

  constructor(
    private readonly post: Post,
    ready: Promise<unknown>,
  ) {
    this.tail = ready.then(
      () => undefined,
      () => undefined,
    );
  }

  push(id: number, task: WorkerTask): void {
    this.tail = this.tail.then(async () => {
      try {
        this.post({ type: 'taskDone', id, result: await execute(id, task, this.post) });
      } catch (err) {
        this.post({ type: 'taskFailed', id, error: wireError(err) });
      }
    });
  }

  idle(): Promise<void> {
    return this.tail;
  }
}
