/**
 * What can be checked about the generated Keras/R scripts on a machine without TensorFlow or keras3:
 * the script parses, it builds the same layers (by name) with the same parameter counts, and its own weight
 * reader (the script's load_weights / read_weights, run alone by the real interpreter with numpy / base R)
 * gets back exactly the arrays the app holds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KerasModelDescription } from './keras-code';

const run = promisify(execFile);

/** One array as re-read by the script's own reader. */
export interface ReadBackArray {
  layer: string;
  weight: string;
  shape: number[];
  sum: number;
  /** The element at row-major position `probe` (catches a transposed read that a sum would not). */
  probe: number;
  probeIndex: number;
}

/** What the interpreter reported about a generated script. */
export interface ScriptFacts {
  interpreter: string;
  /** Layer calls in source order: [Keras class or keras3 function, name]. */
  layers: [string, string][];
  params: Record<string, number>;
  arrays: ReadBackArray[];
  /** True when the real framework (keras for Python, keras3 for R) is importable here. */
  frameworkAvailable: boolean;
}

/** The interpreter was not found or failed: the message says which and why. */
export class ScriptCheckError extends Error {
  override name = 'ScriptCheckError';
}

const PY_CHECK = String.raw`
import ast, importlib.util, json, sys
import numpy as np
script, weights = sys.argv[1], sys.argv[2]
source = open(script, encoding="utf-8").read()
compile(source, script, "exec")  # what py_compile checks, without writing __pycache__ into the export
tree = ast.parse(source)
consts, calls = {}, []
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
            and node.targets[0].id in ("WEIGHTS", "EXPECTED_PARAMS"):
        consts[node.targets[0].id] = ast.literal_eval(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == "layers":
        name = next((ast.literal_eval(k.value) for k in node.keywords if k.arg == "name"), None)
        calls.append((node.lineno, node.func.attr, name))
calls.sort()
# Run the script's own load_weights (and the constants it uses) without importing keras: only those statements.
keep = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name == "load_weights") or
        (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("WEIGHTS", "HERE") for t in n.targets)) or
        (isinstance(n, (ast.Import, ast.ImportFrom)) and all(a.name in ("numpy", "pathlib", "argparse") for a in n.names))]
scope = {"__file__": script}
exec(compile(ast.Module(body=keep, type_ignores=[]), script, "exec"), scope)
loaded = scope["load_weights"](weights)
arrays = []
for (layer, weight, shape), a in zip(consts["WEIGHTS"], loaded):
    n = int(a.size)
    p = int(n * 0.37)
    arrays.append({"layer": layer, "weight": weight, "shape": list(a.shape), "sum": float(a.astype("float64").sum()),
                   "probe": float(a.reshape(-1)[p]) if n else 0.0, "probeIndex": p})
print(json.dumps({"layers": [[c, n] for _, c, n in calls], "params": consts["EXPECTED_PARAMS"], "arrays": arrays,
                  "frameworkAvailable": importlib.util.find_spec("keras") is not None}))
`;

const R_CHECK = String.raw`
a <- commandArgs(trailingOnly = TRUE)
exprs <- parse(file = a[1])
for (e in exprs) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.name(e[[2]]) &&
      as.character(e[[2]]) %in% c("weight_shapes", "expected_params", "read_weights")) eval(e)
}
calls <- character(0)
walk <- function(x) {
  if (is.call(x)) {
    f <- x[[1]]
    # Children first: in a |> f() |> g(), g(f(a)), the first layer is the innermost call.
    for (i in seq_along(x)) if (!is.null(x[[i]])) walk(x[[i]])
    if (is.name(f) && grepl("^layer_", as.character(f)) && as.character(f) != "layer_input" && !is.null(x$name)) calls <<- c(calls, paste0(as.character(f), "\t", x$name))
  }
}
for (e in exprs) walk(e)
for (c in calls) cat("layer\t", c, "\n", sep = "")
for (n in names(expected_params)) cat("param\t", n, "\t", expected_params[[n]], "\n", sep = "")
w <- read_weights(a[2])
for (i in seq_along(w)) {
  s <- weight_shapes[[i]]$shape
  n <- prod(s)
  p <- as.integer(floor(n * 0.37))
  idx <- integer(length(s))
  rest <- p
  for (d in rev(seq_along(s))) { idx[d] <- rest %% s[d]; rest <- rest %/% s[d] }
  probe <- w[[i]][matrix(idx + 1, nrow = 1)]
  cat("array\t", weight_shapes[[i]]$layer, "\t", weight_shapes[[i]]$weight, "\t", paste(dim(w[[i]]), collapse = ","), "\t",
      sprintf("%.17g", sum(as.numeric(w[[i]]))), "\t", sprintf("%.17g", probe), "\t", p, "\n", sep = "")
}
cat("framework\t", requireNamespace("keras3", quietly = TRUE), "\n", sep = "")
`;

/** Candidate Python interpreters, first with numpy wins (Debian's /usr/bin/python3 usually has it). */
const PYTHONS = ['python3', '/usr/bin/python3', 'python'];

async function firstWorking(candidates: string[], probeArgs: string[]): Promise<string | null> {
  for (const c of candidates) {
    try {
      await run(c, probeArgs, { timeout: 30_000 });
      return c;
    } catch {
      // next candidate
    }
  }
  return null;
}

function failure(what: string, err: unknown): ScriptCheckError {
  const e = err as { stderr?: string; message?: string };
  const detail = (e.stderr || e.message || String(err)).trim().split('\n').slice(-3).join(' | ');
  return new ScriptCheckError(`${what}: ${detail}`);
}

/** The first Python interpreter here that imports `module` (numpy, h5py …), or null. */
export function pythonWith(module: string): Promise<string | null> {
  return firstWorking(PYTHONS, ['-c', `import ${module}`]);
}

/** Parses the Python script and re-reads the weights with numpy. Null when no Python with numpy is installed. */
export async function checkPythonScript(script: string, weights: string): Promise<ScriptFacts | null> {
  const python = await pythonWith('numpy');
  if (!python) return null;
  let out: string;
  try {
    out = (await run(python, ['-c', PY_CHECK, script, weights], { timeout: 120_000, maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    throw failure(`${python} could not check ${script}`, err);
  }
  const parsed = JSON.parse(out) as Omit<ScriptFacts, 'interpreter'>;
  return { interpreter: python, ...parsed };
}

/** Parses the R script and re-reads the weights with base R's readBin. Null when Rscript is not installed. */
export async function checkRScript(script: string, weights: string): Promise<ScriptFacts | null> {
  const rscript = await firstWorking(['Rscript'], ['--version']);
  if (!rscript) return null;
  let out: string;
  try {
    out = (await run(rscript, ['--vanilla', '-e', R_CHECK, script, weights], { timeout: 120_000, maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    throw failure(`Rscript could not check ${script}`, err);
  }
  const facts: ScriptFacts = { interpreter: rscript, layers: [], params: {}, arrays: [], frameworkAvailable: false };
  for (const line of out.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'layer') facts.layers.push([f[1]!, f[2]!]);
    else if (f[0] === 'param') facts.params[f[1]!] = Number(f[2]);
    else if (f[0] === 'array') {
      facts.arrays.push({ layer: f[1]!, weight: f[2]!, shape: f[3]!.split(',').map(Number), sum: Number(f[4]), probe: Number(f[5]), probeIndex: Number(f[6]) });
    } else if (f[0] === 'framework') facts.frameworkAvailable = f[1] === 'TRUE';
  }
  return facts;
}

/**
 * Compares what the interpreter read back with the model the app holds. Returns the problems found (empty when
 * everything matches): names, order, parameter counts, shapes, sums and probe elements of every array.
 */
export function compareFacts(facts: ScriptFacts, d: KerasModelDescription, values: Float32Array[], layerCallName: (className: string) => string): string[] {
  const problems: string[] = [];
  const expectedLayers = d.layers.map((l) => [layerCallName(l.className), l.name]);
  if (JSON.stringify(facts.layers) !== JSON.stringify(expectedLayers)) {
    problems.push(`the script builds layers ${JSON.stringify(facts.layers)}, the model has ${JSON.stringify(expectedLayers)}`);
  }
  for (const l of d.layers) {
    if (facts.params[l.name] !== l.params) problems.push(`layer '${l.name}': the script expects ${facts.params[l.name]} parameters, the model has ${l.params}`);
  }
  if (facts.arrays.length !== values.length) {
    problems.push(`the script reads ${facts.arrays.length} weight arrays, the model has ${values.length}`);
    return problems;
  }
  facts.arrays.forEach((a, i) => {
    const w = d.weights[i]!;
    const v = values[i]!;
    const label = `${w.layer}/${w.weight}`;
    if (a.layer !== w.layer || a.weight !== w.weight) problems.push(`array ${i}: the script reads ${a.layer}/${a.weight}, the model has ${label}`);
    if (JSON.stringify(a.shape) !== JSON.stringify(w.shape)) problems.push(`${label}: shape ${JSON.stringify(a.shape)} read back, ${JSON.stringify(w.shape)} in the model`);
    let sum = 0;
    let scale = 0;
    for (const x of v) {
      sum += x;
      scale += Math.abs(x);
    }
    if (Math.abs(a.sum - sum) > 1e-9 * Math.max(1, scale)) problems.push(`${label}: values read back sum to ${a.sum}, the model's to ${sum}`);
    if (v.length > 0 && a.probe !== v[a.probeIndex]) problems.push(`${label}: element ${a.probeIndex} read back as ${a.probe}, the model has ${v[a.probeIndex]}`);
  });
  return problems;
}
