/**
 * The `inside` service's worker thread: started on the first question, kept while the app runs (it holds the
 * last run's model), never keeping the process alive when idle. Requests and answers are plain data.
 */
import { Worker } from 'node:worker_threads';
import type { ExplainCall, ExplainReply, ExplainRequest, WorkerData } from '../worker/protocol';

export class ExplainWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(private readonly workerUrl: URL) {}

  private start(): Worker {
    const worker = new Worker(this.workerUrl, { workerData: { mode: 'explain' } satisfies WorkerData });
    worker.unref();
    worker.on('message', (m: ExplainReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    });
    const die = (why: string): void => {
      if (this.worker === worker) this.worker = null;
      const error = Object.assign(new Error(`the explain worker stopped: ${why}`), { name: 'WorkerCrashed' });
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', (err) => die(err.message));
    worker.on('exit', (code) => die(`exit code ${code}`));
    return worker;
  }

  /** Sends one call and resolves with its answer (typed by the caller, who knows the method). */
  call<T>(call: ExplainCall): Promise<T> {
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    worker.ref(); // an answer is awaited: keep the process alive until it comes
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      worker.postMessage({ id, call } satisfies ExplainRequest);
    });
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
