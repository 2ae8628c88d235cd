import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { defaultRunsDir } from '../../core/paths';
import { writeFileAtomic } from '../../core/fsutil/index';
import { UsageError, type CliCommand } from '../command';
import { intFlag, parseFlags, resolveRunDir } from '../util';
import { openRunExplainer } from './explain';

const USAGE = `Usage: cnn-workbench embed --run ID|DIR --out FILE.json [--method umap|pca] [--seed N] [--max-points N]
                           [--runs-dir DIR]

Projects the run's test images to 2-D by what the model's penultimate layer makes of them (the features its
classifier sees), and writes {method, layer, dimensions, seed, classNames, indices, x, y, truth, predicted}:
one entry per test image in each array. The same run, method and seed always give the same map.

Options:
  --run ID|DIR       the run: a run folder, or a run id under --runs-dir
  --out FILE.json    where to write the projection
  --method M         umap (default; neighbourhoods kept) or pca (linear, at once)
  --seed N           seed of the projection (default 1)
  --max-points N     project only the first N test images (default: the run's whole test set)
  --runs-dir DIR     where run ids are looked up (default: ${defaultRunsDir()})`;

/** `cnn-workbench embed` — the embedding map of a run's test set as JSON. */
export const command: CliCommand = {
  name: 'embed',
  summary: "the test set's penultimate-layer features projected to 2-D (UMAP or PCA) as JSON",
  usage: USAGE,
  async run(args) {
    const { values } = parseFlags(
      args,
      { run: { type: 'string' }, 'runs-dir': { type: 'string' }, out: { type: 'string' }, method: { type: 'string' }, seed: { type: 'string' }, 'max-points': { type: 'string' } },
      USAGE,
    );
    const runDir = resolveRunDir(values.run, values['runs-dir'], USAGE);
    if (!values.out) throw new UsageError('--out is required (the JSON file to write)', USAGE);
    const out = path.resolve(values.out);
    if (!existsSync(path.dirname(out))) throw new UsageError(`--out ${values.out}: the folder ${path.dirname(out)} does not exist`);
    if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${values.out}: is a folder; give a file name`);
    const method = values.method ?? 'umap';
    if (method !== 'umap' && method !== 'pca') throw new UsageError(`--method must be umap or pca, received '${method}'`, USAGE);
    const seed = intFlag('seed', values.seed, 0) ?? 1;
    const maxPoints = intFlag('max-points', values['max-points'], 3);

    const explainer = await openRunExplainer(runDir);
    try {
      const started = Date.now();
      let embedding;
      try {
        embedding = await explainer.embed({ method, seed, maxPoints });
      } catch (err) {
        if (err instanceof Error && err.name === 'DataError') throw new UsageError(`run ${runDir}: ${err.message}`);
        throw err;
      }
      await writeFileAtomic(out, JSON.stringify(embedding) + '\n');
      const wrong = embedding.truth.filter((t, i) => t !== embedding.predicted[i]).length;
      process.stdout.write(
        `${embedding.indices.length} test images, ${embedding.layer} (${embedding.dimensions} values each) → ${method.toUpperCase()} seed ${seed} in ${((Date.now() - started) / 1000).toFixed(1)}s; ${wrong} misclassified\nWrote ${out}\n`,
      );
    } finally {
      explainer.dispose();
    }
    return 0;
  },
};
