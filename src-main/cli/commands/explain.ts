import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { EXPLAIN_METHODS, type ClassMap, type ClassProbability, type ExplainMethod } from '../../shared/contract';
import { overlayRgba } from '../../shared/heatmap';
import { defaultRunsDir } from '../../core/paths';
import { writeFileAtomic } from '../../core/fsutil/index';
import type { RunExplainer } from '../../core/explain/index';
import { UsageError, type CliCommand } from '../command';
import { intFlag, parseFlags, readImageFiles, resolveRunDir } from '../util';

const USAGE = `Usage: cnn-workbench explain --run ID|DIR IMAGE.png [IMAGE.jpg ...] --method gradcam|saliency --out DIR
                             [--class NAME] [--scale N] [--runs-dir DIR] [--json]

Shows where in each image the model finds a class. Per image, writes into DIR:
  NAME.METHOD.png    the image with the map overlaid (blue = nothing, red = the most), enlarged --scale times
  NAME.METHOD.json   {source, method, classIndex, className, layer, width, height, map}: map is the raw
                     height × width array of non-negative numbers, at the model's input size
and prints the top classes. Images are preprocessed as predict does (no inversion).

Options:
  --run ID|DIR     the run: a run folder, or a run id under --runs-dir
  --method M       gradcam: Grad-CAM on the last convolution; saliency: |d score / d pixel|
  --class NAME     the class to explain (a class name or index); default: each image's predicted class
  --out DIR        the folder to write into (created if missing)
  --scale N        enlarge the overlay PNG N times (default 8; 1 = the model's input size)
  --runs-dir DIR   where run ids are looked up (default: ${defaultRunsDir()})
  --json           print a JSON array (one entry per image) on the last line`;

interface Explained {
  source: string;
  top: ClassProbability[];
  map: ClassMap;
  png: string;
  json: string;
}

/** `cnn-workbench explain` — Grad-CAM / saliency overlays for image files. */
/** The file name without folder and extension: the outputs' names. */
const stemOf = (file: string): string => path.basename(file).replace(/\.[^.]*$/, '');

/** Loads the backend and the run's explainer (in the CLI's process); a run without a usable model is a UsageError. */
export async function openRunExplainer(runDir: string): Promise<RunExplainer> {
  const [{ initBackend }, { RunExplainer }] = await Promise.all([import('../../core/backend/index'), import('../../core/explain/index')]);
  await initBackend();
  try {
    return await RunExplainer.open(runDir);
  } catch (err) {
    if (err instanceof Error && err.name === 'ModelFileError') throw new UsageError(err.message);
    throw err;
  }
}

export const command: CliCommand = {
  name: 'explain',
  summary: 'where in an image the model sees a class: Grad-CAM or saliency overlays (PNG) and raw maps (JSON)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      {
        run: { type: 'string' },
        'runs-dir': { type: 'string' },
        method: { type: 'string' },
        class: { type: 'string' },
        out: { type: 'string' },
        scale: { type: 'string' },
        json: { type: 'boolean' },
      },
      USAGE,
      true,
    );
    const runDir = resolveRunDir(values.run, values['runs-dir'], USAGE);
    if (positionals.length === 0) throw new UsageError('give at least one image file (PNG or JPEG)', USAGE);
    const method = values.method as ExplainMethod | undefined;
    if (!method) throw new UsageError(`--method is required: ${EXPLAIN_METHODS.join(' or ')}`, USAGE);
    if (!EXPLAIN_METHODS.includes(method)) throw new UsageError(`--method must be ${EXPLAIN_METHODS.join(' or ')}, received '${method}'`, USAGE);
    if (!values.out) throw new UsageError('--out is required (the folder to write the overlays and maps into)', USAGE);
    const outDir = path.resolve(values.out);
    if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out ${values.out}: exists and is not a folder`);
    const scale = intFlag('scale', values.scale, 1) ?? 8;
    if (scale > 64) throw new UsageError(`--scale must be at most 64, received '${values.scale}'`);
    const stems = new Set<string>();
    for (const file of positionals) {
      const stem = stemOf(file);
      if (stems.has(stem)) throw new UsageError(`two images are named ${stem}: their outputs would overwrite each other in ${values.out}`);
      stems.add(stem);
    }
    const files = (await readImageFiles(positionals)).map((f) => ({ ...f, stem: stemOf(f.file) }));

    const explainer = await openRunExplainer(runDir);
    const results: Explained[] = [];
    const outputs: { file: string; data: string | Uint8Array }[] = [];
    try {
      let classIndex: number | null = null;
      if (values.class !== undefined) {
        classIndex = explainer.classIndex(values.class);
        if (classIndex === null) throw new UsageError(`--class ${JSON.stringify(values.class)}: the model's classes are ${explainer.classNames.map((c, i) => `${i} ${c}`).join(', ')}`);
      }
      // Every image is decoded and explained before anything is written: a bad file leaves DIR untouched.
      const images = files.map((f) => {
        try {
          return { ...f, image: explainer.imageFromBytes(path.basename(f.file), f.bytes) };
        } catch (err) {
          if (err instanceof Error && err.name === 'ImageDecodeError') throw new UsageError(err.message);
          throw err;
        }
      });
      if (method === 'gradcam' && !explainer.model.layers.some((l) => /Conv2D$/.test(l.getClassName()))) {
        throw new UsageError(`run ${runDir}: the model has no convolution layer, so Grad-CAM has nothing to look at; use --method saliency`);
      }
      const [, , channels] = explainer.inputShape;
      for (const im of images) {
        const top = explainer.top(im.image, 3);
        const map = explainer.classMap(im.image, method, classIndex ?? top[0]!.classIndex);
        const png = path.join(outDir, `${im.stem}.${method}.png`);
        const json = path.join(outDir, `${im.stem}.${method}.json`);
        const gray = Float32Array.from({ length: map.width * map.height }, (_, p) => {
          let s = 0;
          for (let c = 0; c < channels; c++) s += im.image[p * channels + c]!;
          return s / channels;
        });
        outputs.push({ file: png, data: encodePng(overlayRgba(gray, map.values), map.width, map.height, scale) });
        const rows = Array.from({ length: map.height }, (_, y) => map.values.slice(y * map.width, (y + 1) * map.width));
        const { values: _flat, ...meta } = map;
        void _flat;
        outputs.push({ file: json, data: JSON.stringify({ source: im.file, ...meta, map: rows }) + '\n' });
        results.push({ source: im.file, top, map, png, json });
      }
    } finally {
      explainer.dispose();
    }
    await mkdir(outDir, { recursive: true });
    for (const o of outputs) await writeFileAtomic(o.file, o.data);
    for (const r of results) {
      const top = r.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(1)}%`).join(', ');
      process.stdout.write(`${r.source}: ${top} — ${r.map.method} for ${r.map.className} (${r.map.layer}) → ${r.png}\n`);
    }
    if (values.json) {
      process.stdout.write(
        JSON.stringify(results.map((r) => ({ source: r.source, top: r.top, method: r.map.method, classIndex: r.map.classIndex, className: r.map.className, layer: r.map.layer, png: r.png, json: r.json }))) + '\n',
      );
    }
    return 0;
  },
};

/** RGBA bytes (width × height) as a PNG enlarged `scale` times by pixel repetition (the map's cells stay sharp). */
function encodePng(rgba: Uint8ClampedArray, width: number, height: number, scale: number): Uint8Array {
  const png = new PNG({ width: width * scale, height: height * scale });
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const src = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 4;
      png.data.set(rgba.subarray(src, src + 4), (y * width * scale + x) * 4);
    }
  }
  const buf = PNG.sync.write(png);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
