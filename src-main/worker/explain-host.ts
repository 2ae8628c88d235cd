/**
 * The explain worker's loop: answers the `inside` service's questions about a run's model, one at a time, in
 * this worker thread (tfjs never loads in the thread serving the UI). The last run's model stays loaded, and
 * its embeddings are kept by method and seed, so clicking around one run answers quickly.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ExplainCall, ExplainReply, ExplainRequest } from './protocol';

type Explainer = Awaited<ReturnType<typeof import('../core/explain/index').RunExplainer.open>>;

export async function serveExplain(port: MessagePort): Promise<void> {
  const [{ initBackend }, { RunExplainer }] = await Promise.all([import('../core/backend/index'), import('../core/explain/index')]);
  await initBackend();
  let current: { runDir: string; explainer: Explainer; embeddings: Map<string, unknown> } | null = null;

  const open = async (runDir: string) => {
    if (current?.runDir !== runDir) {
      current?.explainer.dispose();
      current = null;
      current = { runDir, explainer: await RunExplainer.open(runDir), embeddings: new Map() };
    }
    return current;
  };

  const answer = async (call: ExplainCall): Promise<unknown> => {
    const run = await open(call.runDir);
    const ex = run.explainer;
    const image = async (ref: Extract<ExplainCall, { image: unknown }>['image']) =>
      'testIndex' in ref ? (await ex.testImage(ref.testIndex)).image : ex.imageFromBytes(ref.name, new Uint8Array(Buffer.from(ref.base64, 'base64')));
    switch (call.method) {
      case 'activations':
        return ex.activations(await image(call.image));
      case 'classMap':
        return ex.classMap(await image(call.image), call.explain, call.classIndex);
      case 'kernels':
        return ex.kernels();
      case 'exciteFilters':
        return ex.excite(call.layer, call.filters, { seed: 1 });
      case 'embedding': {
        const key = `${call.projection}:${call.seed}`;
        if (!run.embeddings.has(key)) run.embeddings.set(key, await ex.embed({ method: call.projection, seed: call.seed, maxPoints: 10_000 }));
        return run.embeddings.get(key);
      }
    }
  };

  // Calls are answered in order; a slow one (UMAP) delays the next rather than running two models at once.
  let queue = Promise.resolve();
  port.on('message', (req: ExplainRequest) => {
    queue = queue.then(async () => {
      let reply: ExplainReply;
      try {
        reply = { id: req.id, ok: true, result: await answer(req.call) };
      } catch (err) {
        reply = { id: req.id, ok: false, error: err instanceof Error ? { name: err.name || 'Error', message: err.message } : { name: 'Error', message: String(err) } };
      }
      port.postMessage(reply);
    });
  });
}
