import { EXIT_USAGE, UsageError, type CliCommand } from '../command';
import { intFlag, parseFlags } from '../util';

const USAGE = `Usage: cnn-workbench summary [SPEC] [--batch-size N] [--memory-budget SIZE]

Prints a Keras-style summary (output shapes, parameter counts) of a model spec and every problem in it, then
the memory training it needs (weights, gradients and Adam's slots, plus the batch's activations).
SPEC is a spec JSON file or a template id (lesson-cnn, small-cnn, lenet5, small-mlp, small-resnet,
inception-blocks); default: lesson-cnn. It may also be a model written by Keras (a model.to_json() file, a .keras
archive) or TF.js (model.json).
  --batch-size N        the batch the memory estimate is for (default 128)
  --memory-budget SIZE  bytes, 512M, 4G or 60% (default half the physical memory, or CNN_WORKBENCH_MEMORY_BUDGET)
Exit code 2 when the spec has errors or does not fit the memory budget.`;

const FLAGS = {
  'batch-size': { type: 'string' },
  'memory-budget': { type: 'string' },
} as const;

/** `cnn-workbench summary [spec]`. */
export const command: CliCommand = {
  name: 'summary',
  summary: "print a Keras-style summary of a model spec (default: the lesson's CNN)",
  usage: USAGE,
  async run(args) {
    const { positionals, values } = parseFlags(args, FLAGS, USAGE, true);
    if (positionals.length > 1) {
      process.stderr.write(`cnn-workbench summary: expected at most one spec, received ${positionals.length}\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const batch = intFlag('batch-size', values['batch-size'], 1) ?? 128;
    // Loaded here, not at the top: the model core pulls in tfjs, which `cnn-workbench --help` should not pay for.
    const [{ formatSummary, summarizeSpec }, memory, { readModelSource }] = await Promise.all([
      import('../../core/model'),
      import('../../core/model/memory'),
      import('../spec-file'),
    ]);
    let budget: number;
    try {
      budget = memory.memoryBudget(values['memory-budget']);
    } catch (err) {
      throw new UsageError(`--memory-budget: ${(err as Error).message}`);
    }
    const { spec, notes } = await readModelSource(positionals[0] ?? 'lesson-cnn', 'spec');
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    const summary = summarizeSpec(spec);
    process.stdout.write(formatSummary(summary, spec.config.name) + '\n');
    if (!summary.ok) return EXIT_USAGE;
    const estimate = memory.estimateMemory(summary, 2, budget);
    process.stdout.write(` Memory: ${memory.describeMemory(estimate, batch)} (with Adam)\n`);
    try {
      memory.checkMemory(estimate, batch, spec.config.name);
    } catch (err) {
      if (err instanceof memory.MemoryBudgetError) throw new UsageError(err.message);
      throw err;
    }
    return 0;
  },
};
