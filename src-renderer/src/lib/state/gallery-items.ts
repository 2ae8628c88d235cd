/**
 * Which test images a confusion-matrix cell's gallery shows, from what the evaluation kept: for an
 * off-diagonal cell the most confident mistakes, for a diagonal cell the correct predictions the model was
 * least sure of. Pure, so the component stays a view.
 */
import type { Evaluation } from '$shared/contract';

export type Prediction = Evaluation['misclassified'][number];

/** One image of the gallery, with the probability the model gave to the predicted class. */
export interface GalleryItem extends Prediction {
  confidence: number;
}

export interface GalleryPick {
  items: GalleryItem[];
  /** How the items are ordered and which of the cell's images they are. */
  order: 'most confident' | 'least confident';
  /** Images the evaluation kept for this kind of cell (all cells together). */
  kept: number;
  /** False for evaluations written before the diagonal's images were kept. */
  available: boolean;
}

/** The gallery of `cell`, at most `max` images. */
export function galleryItems(evaluation: Evaluation, cell: { truth: number; predicted: number }, max: number): GalleryPick {
  const diagonal = cell.truth === cell.predicted;
  const source = diagonal ? evaluation.leastConfidentCorrect : evaluation.misclassified;
  const items = (source ?? [])
    .filter((m) => m.truth === cell.truth && m.predicted === cell.predicted)
    .map((m) => ({ ...m, confidence: m.probabilities[m.predicted] ?? 0 }))
    .sort((a, b) => (diagonal ? a.confidence - b.confidence : b.confidence - a.confidence) || a.index - b.index)
    .slice(0, max);
  return { items, order: diagonal ? 'least confident' : 'most confident', kept: source?.length ?? 0, available: source !== undefined };
}
