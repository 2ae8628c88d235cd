import type { CliCommand } from '../command';

/** `cnn-workbench train` — placeholder until runTraining lands. */
export const command: CliCommand = {
  name: 'train',
  summary: 'train a model on Fashion-MNIST (or --data), evaluate it on the test set and save the run',
  usage: 'Usage: cnn-workbench train [options]',
  async run() {
    process.stderr.write('train: not implemented yet\n');
    return 1;
  },
};
