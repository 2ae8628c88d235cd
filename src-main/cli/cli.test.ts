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
  missingSpec: () => ['train', '--spec', path.join(tmp, 'missing.json')],
  notJson: () => ['train', '--spec', path.join(tmp, 'not-json.json')],
  badSpec: () => ['train', '--spec', path.join(tmp, 'bad-spec.json')],
  truncatedData: () => ['train', '--spec', 'small-cnn', '--data', path.join(tmp, 'truncated')],
  unknownCommand: () => ['frobnicate'],
  summary: () => ['summary'],
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
  // Real Fashion-MNIST files, with the training images cut short (header intact, pixels missing).
  const dir = path.join(tmp, 'truncated');
  await fs.mkdir(dir);
  for (const f of ['train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) await fs.copyFile(path.join(DEBIAN, f), path.join(dir, f));
  const images = gunzipSync(await fs.readFile(path.join(DEBIAN, 'train-images-idx3-ubyte.gz')));
  await fs.writeFile(path.join(dir, 'train-images-idx3-ubyte'), images.subarray(0, 16 + 784 * 100));
  for (const [name, args] of Object.entries(CASES)) results.set(name, await cli([...args(), ...(name === 'summary' ? [] : ['--runs-dir', runsDir])]));
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
  it('a learning rate <= 0 is refused', () => assertUsageError('badLr', /--lr must be a number > 0, received '0'/));
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
