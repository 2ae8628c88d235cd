import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { medianRun, parseScalingArgs, SCALING_CONFIGS, scalingTable, type BenchLine } from './scaling';

const line = (train: number, over: Partial<BenchLine> = {}): BenchLine => ({
  trainImgPerSec: train,
  trainImgPerSecMixedBfloat16: 1.5 * train,
  evalImgPerSec: 4 * train,
  peerTrainImgPerSec: train / 2,
  peerEvalImgPerSec: train,
  peerPeakRssMb: 410,
  trainRatio: 2,
  evalRatio: 4,
  peakRssMb: 480,
  trainLimitImgPerSec: 3139,
  evalLimitImgPerSec: 9416,
  trainCpuMsPerStep: 130.25,
  threads: 2,
  loadAverage: [0.4, 1.25],
  ...over,
});

describe('bench --scaling', () => {
  it('covers the configurations of issue 16: batch 32–256, width ½ / 1 / 2, 1 and every thread', () => {
    assert.deepEqual(
      SCALING_CONFIGS.map((c) => c.batchSize),
      [32, 64, 128, 256, 128, 128, 128],
    );
    assert.deepEqual(new Set(SCALING_CONFIGS.map((c) => c.width)), new Set([0.5, 1, 2]));
    assert.deepEqual(new Set(SCALING_CONFIGS.map((c) => c.threads)), new Set([null, 1]));
  });

  it('takes the median run by our training speed, keeping that run’s figures together', () => {
    const runs = [line(1800), line(1200, { evalImgPerSec: 1 }), line(2400)];
    assert.equal(medianRun(runs), runs[0]);
    assert.equal(medianRun([runs[1]!, runs[2]!]), runs[1], 'of two, the slower');
    assert.equal(medianRun([runs[2]!]), runs[2]);
  });

  it('writes one markdown row per configuration with the ratios, the limits, the share of the limit and RSS', () => {
    const table = scalingTable(
      [
        { label: 'batch 128', runs: [line(2000), line(1500), line(2512)] },
        { label: 'width 2 (batch 128)', runs: [line(600, { peerTrainImgPerSec: null, peerEvalImgPerSec: null, trainRatio: null, evalRatio: null, peerPeakRssMb: null })] },
        { label: 'batch 256', runs: [] },
      ],
      '### Scaling',
    );
    const rows = table.split('\n');
    assert.equal(rows[0], '### Scaling');
    assert.equal(rows.length, 7);
    assert.equal(
      rows[4],
      '| batch 128 | 2,000 / 8,000 | 3,000 | 1,000 / 2,000 | 2.00× / 4.00× | 3,139 / 9,416 | 64 % / 85 % | 480 / 410 MB | 130.3 | 2,000, 1,500, 2,512 | 0.4 → 1.3 |',
    );
    assert.match(rows[5]!, /^\| width 2 \(batch 128\) \| 600 \/ 2,400 \| 900 \| — \/ — \| — \/ — \| .* \| 480 \/ — MB \|/);
    assert.equal(rows[6], '| batch 256 | failed | | | | | | | | | |');
    for (const r of rows.slice(2)) assert.equal(r.split('|').length, 13, `11 columns: ${r}`);
  });

  it('reads its flags, naming a bad one', () => {
    const o = parseScalingArgs(['--scaling', '--repeats', '2', '--out', 'x.md'], '/repo');
    assert.equal(o.repeats, 2);
    assert.equal(o.batches, 30);
    assert.equal(o.out, path.resolve('x.md'));
    assert.equal(parseScalingArgs([], '/repo').out, path.join('/repo', 'bench', 'scaling.md'));
    assert.throws(() => parseScalingArgs(['--repeats', '0'], '/repo'), /--repeats needs a positive integer \(got '0'\)/);
    assert.throws(() => parseScalingArgs(['--width', '2'], '/repo'), /--scaling: unknown flag '--width'/);
  });
});
