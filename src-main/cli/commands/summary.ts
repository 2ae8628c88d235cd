import { EXIT_USAGE, type CliCommand } from '../command';
import { parseFlags } from '../util';

const USAGE = `Usage: cnn-workbench summary [SPEC]

Prints a Keras-style summary (output shapes, parameter counts) of a model spec and every problem in it.
SPEC is a spec JSON file or a template id (lesson-cnn, small-cnn, lenet5, small-mlp); default: lesson-cnn.
Exit code 2 when the spec has errors.`;

/** `cnn-workbench summary [spec]`. */
export const command: CliCommand = {
  name: 'summary',
  summary: "print a Keras-style summary of a model spec (default: the lesson's CNN)",
  usage: USAGE,
  async run(args) {
    const { positionals } = parseFlags(args, {}, USAGE, true);
    if (positionals.length > 1) {
      process.stderr.write(`cnn-workbench summary: expected at most one spec, received ${positionals.length}\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    // Loaded here, not at the top: the model core pulls in tfjs, which `cnn-workbench --help` should not pay for.
    const [{ formatSummary, summarizeSpec }, { readSpec }] = await Promise.all([import('../../core/model'), import('../spec-file')]);
    const spec = await readSpec(positionals[0] ?? 'lesson-cnn', 'spec');
    const summary = summarizeSpec(spec);
    process.stdout.write(formatSummary(summary, spec.config.name) + '\n');
    return summary.ok ? 0 : EXIT_USAGE;
  },
};
