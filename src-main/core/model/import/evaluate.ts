/**
 * Evaluating an opened model with its own weights on a dataset's test set, at once (no training): how a person
 * checks that the model they brought in is the one they trained elsewhere.
 */
import type { Evaluation } from '../../../shared/contract';
import type { AnyModelSpec } from '../../../shared/spec';
import type { Dataset } from '../../data';
import { evaluateModel } from '../../eval/predict';
import { buildModel } from '../build';
import { ModelImportError } from './keras-config';
import type { ImportedWeight } from './open';
import { applyImportedWeights } from './weights';

/** The test-set evaluation of `spec` with `weights`; refuses (naming `source`) a model whose input or output does not fit the data. */
export async function evaluateImported(spec: AnyModelSpec, weights: readonly ImportedWeight[], dataset: Dataset, source: string): Promise<Evaluation> {
  const model = buildModel(spec, 0);
  try {
    applyImportedWeights(model, weights, source);
    const inShape = model.inputs[0]!.shape.slice(1);
    const [h, w, c] = dataset.info.imageShape;
    if (inShape.join(',') !== [h, w, c].join(',')) {
      throw new ModelImportError(`${source}: the model takes images of shape [${inShape.join(', ')}] but ${dataset.info.name} has [${h}, ${w}, ${c}]`);
    }
    const k = dataset.info.classNames.length;
    const outShape = model.outputs[0]!.shape;
    if (outShape[1] !== k) throw new ModelImportError(`${source}: the model outputs ${String(outShape[1])} values per image but ${dataset.info.name} has ${k} classes`);
    return await evaluateModel(model, dataset.test, dataset.info.classNames);
  } finally {
    model.dispose();
  }
}
