/**
 * "Open model…": a Keras model.to_json() file, a .keras archive or a TF.js model.json picked in a file input (both
 * shells), converted by the services into a spec and loaded into the editor as one undoable edit. A model the
 * workbench cannot open is refused with the services' message (file, layer, what to do) in the status line.
 */
import type { AppState } from './app-state.svelte';
import { toBase64 } from './try-it.svelte';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e));

/** The file types the picker offers. */
export const MODEL_FILE_ACCEPT = '.json,.keras,application/json,application/zip';

export async function openModelFile(app: AppState, file: File): Promise<void> {
  try {
    const opened = await app.api().model.openModelFile({ name: file.name, base64: toBase64(new Uint8Array(await file.arrayBuffer())) });
    app.project.replaceSpec(opened.spec, opened.weights);
    // A graph reads best as blocks and wires; the list shows it read-only.
    if (opened.spec.class_name === 'Functional') app.modelLayout = 'canvas';
    const kind = opened.format === 'tfjs' ? 'TF.js model' : opened.format === 'keras-archive' ? '.keras archive' : `${opened.dialect === 'keras3' ? 'Keras 3' : 'tf.keras 2'} config`;
    const notes = opened.notes.length > 0 ? ` — ${opened.notes.join('; ')}` : '';
    const weights = opened.weights ? `, its trained weights read (${opened.weights.arrays} arrays): Train starts from them` : '';
    app.say('info', `Opened ${file.name} (${kind}, ${opened.spec.config.layers.length} layers${weights})${notes}`);
  } catch (e) {
    app.say('error', messageOf(e));
  }
}
