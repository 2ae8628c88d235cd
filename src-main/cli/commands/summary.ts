import type { CliCommand } from '../command';

/** `cnn-workbench summary [spec]` — placeholder until the model API lands. */
export const command: CliCommand = {
  name: 'summary',
  summary: "print a Keras-style summary of a model spec (default: the lesson's CNN)",
  usage: 'Usage: cnn-workbench summary [SPEC.json]',
  async run() {
    process.stderr.write('summary: not implemented yet\n');
    return 1;
  },
};
