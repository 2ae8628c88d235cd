import type { FieldDescriptor, LayerClassName } from '../../shared/spec';
import { layerRegistry } from './registry';

/**
 * The editable config fields of a layer class for the UI form: name, kind, Keras default, allowed values/range.
 * The data itself is plain (src-main/shared/layer-fields.ts) so the renderer can read `LAYER_FIELDS` without
 * tfjs; this accessor throws `Unknown layer class: '…'` for an unknown class.
 */
export function layerFields(className: LayerClassName): FieldDescriptor[] {
  return [...layerRegistry.get(className).fields];
}
