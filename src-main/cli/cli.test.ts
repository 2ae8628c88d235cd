import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { COMMANDS, main } from './main';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/cnn-workbench.js');
const DEBIAN = '/usr/share/datasets/fashion-mnist';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI as a child process (as a user runs it). */
function spawnCli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: tmp } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * The same CLI in this process: `main()` is what bin/cnn-workbench.js runs, minus ~2 s of start-up per call.
 * stdout/stderr are captured only for the duration of the call.
 */
async function cli(args: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

let tmp: string;
let runsDir: string;
let badDense: number;
let badDenseName: string;
const results = new Map<string, Result>();
const CASES: Record<string, () => string[]> = {
  badInt: () => ['train', '--epochs', 'abc'],
  unknownFlag: () => ['train', '--epoch', '3'],
  missingValue: () => ['train', '--batch-size'],
  badLr: () => ['train', '--lr', '0'],
  badPolicy: () => ['train', '--dtype-policy', 'bfloat16'],
  missingSpec: () => ['train', '--spec', path.join(tmp, 'missing.json')],
  notJson: () => ['train', '--spec', path.join(tmp, 'not-json.json')],
  badSpec: () => ['train', '--spec', path.join(tmp, 'bad-spec.json')],
  truncatedData: () => ['train', '--spec', 'small-cnn', '--data', path.join(tmp, 'truncated')],
  unknownCommand: () => ['frobnicate'],
  summary: () => ['summary'],
  // Issue 13, finding 8's CLI parts and finding 4.
  hexLr: () => ['train', '--lr', '0x10'],
  repeatedFlag: () => ['train', '--lr', '1e-3', '--epochs', '2', '--lr', '10'],
  strictWarnings: () => ['train', '--spec', path.join(tmp, 'stride-typo.json'), '--strict'],
  tooManyLayers: () => ['train', '--spec', path.join(tmp, 'many-layers.json')],
  overBudget: () => ['train', '--spec', 'small-cnn', '--limit-train', '100', '--limit-test', '100', '--memory-budget', '1M'],
  summaryOverBudget: () => ['summary', path.join(tmp, 'huge-dense.json'), '--memory-budget', '8G'],
  summaryLayers: () => ['summary', path.join(tmp, 'many-layers.json')],
  summaryGraph: () => ['summary', path.join(ROOT, 'examples/residual-cnn.json')],
  summaryCycle: () => ['summary', path.join(tmp, 'cycle.json')],
};

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-test-'));
  runsDir = path.join(tmp, 'runs');
  await fs.writeFile(path.join(tmp, 'not-json.json'), '{"format_version": 1,');
  const bad = JSON.parse(await fs.readFile(path.join(ROOT, 'examples/small-cnn.json'), 'utf8'));
  // The example's Dense layer, wherever the example puts it: the test is about the message, not the model.
  badDense = (bad.config.layers as { class_name: string; config: { name: string; units: number } }[]).findIndex((l) => l.class_name === 'Dense');
  badDenseName = bad.config.layers[badDense].config.name;
  bad.config.layers[badDense].config.units = -64;
  await fs.writeFile(path.join(tmp, 'bad-spec.json'), JSON.stringify(bad));
  const layers = (extra: object[]) => ({
    format_version: 1,
    class_name: 'Sequential',
    config: { name: 'made', layers: [{ class_name: 'InputLayer', config: { shape: [28, 28, 1] } }, ...extra] },
  });
  const out = { class_name: 'Dense', config: { units: 10, activation: 'softmax' } };
  const conv = (c: object) => ({ class_name: 'Conv2D', config: { filters: 4, kernel_size: 3, activation: 'relu', ...c } });
  await fs.writeFile(path.join(tmp, 'stride-typo.json'), JSON.stringify(layers([conv({ stride: 2 }), { class_name: 'Flatten', config: {} }, out])));
  await fs.writeFile(path.join(tmp, 'many-layers.json'), JSON.stringify(layers([{ class_name: 'Flatten', config: {} }, ...Array.from({ length: 1000 }, () => out)])));
  await fs.writeFile(
    path.join(tmp, 'huge-dense.json'),
    JSON.stringify(layers([conv({ filters: 32 }), { class_name: 'Flatten', config: {} }, { class_name: 'Dense', config: { units: 100_000 } }, out])),
  );
  const cycle = JSON.parse(await fs.readFile(path.join(ROOT, 'examples/residual-cnn.json'), 'utf8'));
  cycle.config.layers.find((l: { name: string }) => l.name === 'conv').inbound_nodes = [[['image', 0, 0, {}], ['add', 0, 0, {}]]];
  await fs.writeFile(path.join(tmp, 'cycle.json'), JSON.stringify(cycle));
  // Real Fashion-MNIST files, with the training images cut short (header intact, pixels missing).
  const dir = path.join(tmp, 'truncated');
  await fs.mkdir(dir);
  for (const f of ['train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) await fs.copyFile(path.join(DEBIAN, f), path.join(dir, f));
  const images = gunzipSync(await fs.readFile(path.join(DEBIAN, 'train-images-idx3-ubyte.gz')));
  await fs.writeFile(path.join(dir, 'train-images-idx3-ubyte'), images.subarray(0, 16 + 784 * 100));
  for (const [name, args] of Object.entries(CASES)) results.set(name, await cli([...args(), ...(name.startsWith('summary') ? [] : ['--runs-dir', runsDir])]));
  // One case through the real executable: the exit code really reaches the shell.
  results.set('spawned', await spawnCli(['train', '--epochs', 'abc', '--runs-dir', runsDir]));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Exit code 2, the message names `what`, no stack trace, no run folder. */
function assertUsageError(name: string, what: RegExp): void {
  const r = results.get(name)!;
  assert.equal(r.code, 2, `${name}: exit code ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, what, `${name}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${name}: no stack trace`);
  assert.equal(existsSync(runsDir), false, `${name}: no run folder written`);
}

describe('cnn-workbench CLI errors', () => {
  it('a non-integer flag value names the flag and the value', () => assertUsageError('badInt', /--epochs must be an integer >= 1, received 'abc'/));
  it('an unknown flag is named', () => assertUsageError('unknownFlag', /Unknown option '--epoch'/));
  it('a flag without its value is named', () => assertUsageError('missingValue', /--batch-size/));
  it('a learning rate <= 0 is refused', () => assertUsageError('badLr', /--lr must be a decimal number > 0, received '0'/));
  it("a dtype policy Keras does not have here is named, with the two it does", () =>
    assertUsageError('badPolicy', /--dtype-policy must be one of float32, mixed_bfloat16, received 'bfloat16'/));
  it('numbers are plain decimals: --lr 0x10 is refused, not read as 16', () => assertUsageError('hexLr', /--lr must be a decimal number > 0, received '0x10'/));
  it('a flag given twice is refused instead of the last one winning', () => assertUsageError('repeatedFlag', /--lr is given more than once/));
  it('--strict turns the spec warnings (a typo such as "stride") into an error', () =>
    assertUsageError('strictWarnings', /stride-typo\.json: 1 warning\(s\), refused by --strict:\n {2}- Layer 1 'conv2d' \(Conv2D\): stride = 2 — unknown config field/));
  it('a spec of more than 1,000 layers is refused before it is parsed', () => assertUsageError('tooManyLayers', /many-layers\.json: 1,002 layers; a spec may hold at most 1,000/));
  it('a model over the memory budget is refused with the estimate, before any run folder', () =>
    assertUsageError('overBudget', /--spec small-cnn: model 'small_cnn' needs ~[\d.]+ MB to train at batch 90 .*budget 1\.0 MB/));
  it('a missing spec file is named', () => assertUsageError('missingSpec', /--spec .*missing\.json: cannot read it \(ENOENT\)/));
  it('a spec that is not JSON is named', () => assertUsageError('notJson', /--spec .*not-json\.json: not valid JSON/));
  it('an invalid spec names the file, the layer, the field and the value', () =>
    assertUsageError('badSpec', new RegExp(`bad-spec\\.json[\\s\\S]*Layer ${badDense} '${badDenseName}'[\\s\\S]*units[\\s\\S]*-64`)));
  it('a truncated data file is named', () => assertUsageError('truncatedData', /train-images-idx3-ubyte/));
  it('the real executable exits with code 2 and prints no stack trace', () => assertUsageError('spawned', /--epochs must be an integer >= 1, received 'abc'/));
  it('an unknown command lists the known ones', () => {
    const r = results.get('unknownCommand')!;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'. Commands: .*summary.*train/);
  });
});

describe('cnn-workbench summary', () => {
  it('shows the memory estimate; a model over the budget exits 2 giving it (Dense 100,000 units after a convolution)', () => {
    assert.match(results.get('summary')!.stdout, /Memory: ~[\d.]+ MB to train at batch 128 \(weights, gradients and optimizer [\d.]+ MB, activations [\d.]+ MB\); budget/);
    const r = results.get('summaryOverBudget')!;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /Total params: \d,\d{3},\d{3},\d{3} /, 'billions of parameters pass validation');
    assert.match(r.stderr, /model 'made' needs ~\d+\.\d GB to train at batch 128 .*budget 8\.0 GB: its weights alone do not fit/);
    assert.equal(results.get('summaryLayers')!.code, 2);
  });
  it('prints a functional spec with Keras\' "Connected to" column; a cycle exits 2 naming its layers', () => {
    const r = results.get('summaryGraph')!;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /┃ Connected to\s+┃/);
    assert.match(r.stdout, /│ add \(Add\)\s+│ \(None, 28, 28, 8\)\s+│\s+0 │ conv\[0\]\[0\],\s+│/);
    assert.match(r.stdout, /Total params: 16,938/);
    const c = results.get('summaryCycle')!;
    assert.equal(c.code, 2);
    assert.match(c.stdout, /error {3}Layer \d+ '(conv|add|branch_conv1|branch_conv2|relu)' \(\w+\): inbound_nodes — is part of a cycle/);
  });
  it("prints the lesson's table and totals by default", () => {
    const r = results.get('summary')!;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Total params: 468,586/);
    assert.match(r.stdout, /Trainable params: 468,202/);
    assert.match(r.stdout, /Non-trainable params: 384/);
  });

  it('a spec nested 5,000 deep is one clear message and exit 2, not "Maximum call stack size exceeded"', async () => {
    const file = path.join(tmp, 'deep.json');
    const spec = await fs.readFile(path.join(ROOT, 'examples', 'small-cnn.json'), 'utf8');
    await fs.writeFile(file, spec.trimEnd().replace(/\}$/, `, "extra": ${'['.repeat(5000)}1${']'.repeat(5000)}}`));
    const r = await cli(['summary', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Model spec: nested more than 64 levels deep/);
    assert.doesNotMatch(r.stderr, /Maximum call stack|\n\s+at /);
  });
});

describe('cnn-workbench usage texts', () => {
  it('summary and train list every template id (their usage is written out so --help never loads tfjs)', async () => {
    const { TEMPLATES } = await import('../core/model');
    for (const name of ['summary', 'train']) {
      const { command } = await COMMANDS[name]!();
      for (const t of TEMPLATES) assert.ok(command.usage.includes(t.id), `${name} usage lacks template ${t.id}`);
    }
  });
});
