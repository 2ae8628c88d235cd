/**
 * Top-to-bottom positions for the canvas' blocks, by dagre (the layered layout Svelte Flow's own examples use),
 * so a network reads like Keras' plot_model: input at the top, each layer below what it reads.
 */
import { Graph, layout } from '@dagrejs/dagre';
import { inboundLayerNames } from '$shared/spec';
import type { FunctionalModelSpec } from '$shared/spec';

export interface XY {
  x: number;
  y: number;
}

/**
 * A block's box on the canvas: the node component (layer-block.svelte) is this wide, and this tall whatever the
 * summary says — three short lines and its two-line issue area, reserved even when empty.
 */
export const BLOCK_WIDTH = 210;
export const BLOCK_HEIGHT = 89;

/** Top-left corner of every layer's block, keyed by layer name. */
export function autoLayout(graph: FunctionalModelSpec): Map<string, XY> {
  const g = new Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 36, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const names = new Set(graph.config.layers.map((l) => l.name));
  for (const l of graph.config.layers) g.setNode(l.name, { width: BLOCK_WIDTH, height: BLOCK_HEIGHT });
  for (const l of graph.config.layers) for (const source of inboundLayerNames(l)) if (names.has(source)) g.setEdge(source, l.name);
  layout(g);
  // dagre gives centres; Svelte Flow places a node by its top-left corner.
  return new Map(graph.config.layers.map((l) => {
    const n = g.node(l.name);
    return [l.name, { x: n.x - BLOCK_WIDTH / 2, y: n.y - BLOCK_HEIGHT / 2 }];
  }));
}

/**
 * Positions for every layer: kept where known; a new layer goes below the first block it reads (beside any block
 * already there, so a second branch lands next to the first), or below everything when it reads nothing. Adding
 * a block never moves the others.
 */
export function placeNew(graph: FunctionalModelSpec, known: ReadonlyMap<string, XY>): Map<string, XY> {
  if (!graph.config.layers.some((l) => known.has(l.name))) return autoLayout(graph);
  const out = new Map<string, XY>();
  for (const l of graph.config.layers) {
    const at = known.get(l.name);
    if (at) out.set(l.name, at);
  }
  const taken = (p: XY): boolean => [...out.values()].some((q) => Math.abs(q.x - p.x) < BLOCK_WIDTH && Math.abs(q.y - p.y) < BLOCK_HEIGHT);
  for (const l of graph.config.layers) {
    if (out.has(l.name)) continue;
    const above = inboundLayerNames(l)
      .map((n) => out.get(n))
      .find((p) => p !== undefined);
    const bottom = Math.max(...[...out.values()].map((p) => p.y));
    const place = above ? { x: above.x, y: above.y + BLOCK_HEIGHT + 36 } : { x: 0, y: bottom + BLOCK_HEIGHT + 36 };
    while (taken(place)) place.x += BLOCK_WIDTH + 30;
    out.set(l.name, place);
  }
  return out;
}

/** `known` with `added` set (a new map: the canvas replaces its positions rather than mutating them). */
export function withPositions(known: ReadonlyMap<string, XY> | null, added: Iterable<[string, XY]>): ReadonlyMap<string, XY> {
  return new Map([...(known ?? []), ...added]);
}
