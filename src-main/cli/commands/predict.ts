import path from 'node:path';
import { defaultRunsDir } from '../../core/paths';
import { UsageError, type CliCommand } from '../command';
import { parseFlags, readImageFiles, resolveRunDir } from '../util';

const USAGE = `Usage: cnn-workbench predict --run ID|DIR IMAGE.png [IMAGE.jpg ...] [--runs-dir DIR] [--invert] [--json]

Classifies PNG/JPEG images with a run's trained model and prints the top 3 classes with probabilities.
Images are preprocessed as the model's preprocessing.json says: EXIF orientation applied, alpha over black,
grayscale by luminance for a 1-channel model or RGB for a 3-channel one, resized to the model input (area
averaging when shrinking), scaled by 1/255 — as image-folder datasets are read for training. Fashion-MNIST models expect a
light object on a black background; images are NOT inverted unless you pass --invert.

Options:
  --run ID|DIR     the run: a run folder, or a run id under --runs-dir
  --runs-dir DIR   where run ids are looked up (default: ${defaultRunsDir()})
  --invert         use 255 − pixel (for dark objects photographed on a light background)
  --json           print the predictions as a JSON array on the last line`;

/** `cnn-workbench predict` — top-3 classes for image files. */
export const command: CliCommand = {
  name: 'predict',
  summary: 'classify PNG/JPEG images with a trained run (top 3 classes with probabilities)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      { run: { type: 'string' }, 'runs-dir': { type: 'string' }, json: { type: 'boolean' }, invert: { type: 'boolean' } },
      USAGE,
      true,
    );
    const runDir = resolveRunDir(values.run, values['runs-dir'], USAGE);
    if (positionals.length === 0) throw new UsageError('give at least one image file (PNG or JPEG)', USAGE);
    const images = (await readImageFiles(positionals)).map(({ file, bytes }) => ({ name: path.basename(file), bytes }));
    const [{ initBackend }, { predictImages }] = await Promise.all([import('../../core/backend/index'), import('../../core/predict/index')]);
    await initBackend();
    let predictions;
    try {
      predictions = await predictImages(runDir, images, { invert: values.invert === true });
    } catch (err) {
      if (err instanceof Error && (err.name === 'ImageDecodeError' || err.name === 'ModelFileError')) throw new UsageError(err.message);
      throw err;
    }
    for (const p of predictions) {
      const top = p.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(1)}%`).join(', ');
      process.stdout.write(`${p.source}: ${top}\n`);
    }
    if (values.json) process.stdout.write(JSON.stringify(predictions) + '\n');
    return 0;
  },
};
