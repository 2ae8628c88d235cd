/**
 * What the canvas draws, derived from the model: one block per layer (class, key settings, output shape and
 * parameters from the summary, its issues) and one wire per input. Pure, so the mapping is tested without a DOM.
 */
import { inboundLayerNames } from '$shared/spec';
import type { Edge, Node } from '@xyflow/svelte';
import type { FunctionalModelSpec, LayerClassName, SpecIssue, SpecSummary } from '$shared/spec';
import { formatCount, formatShape } from '../editor/format';
import { layerCaption } from '../editor/layer-caption';
import type { XY } from './layout';
import { isMergeClass } from '$shared/layers/index';

export interface BlockData extends Record<string, unknown> {
  name: string;
  className: LayerClassName;
  caption: string;
  /** "(None, 28, 28, 32)", or null where the summary has not reached the layer. */
  shape: string | null;
  params: string | null;
  /** The issues the core names this layer for (messages), errors first. */
  issues: string[];
  severity: 'error' | 'warning' | null;
  merge: boolean;
}
export type BlockNode = Node<BlockData, 'block'>;
export type WireEdge = Edge<{ issue: string | null }>;
/** What Svelte Flow is handed (and hands back through its bindings). */
export interface FlowDrawing {
  nodes: BlockNode[];
  edges: WireEdge[];
}

/** The wire id Svelte Flow keys edges by: source, target and the input's slot. */
export const wireId = (source: string, target: string, slot: number): string => `${source}->${target}#${slot}`;

/** The layer each issue names: by name when the core gives one, else by its index in `graph` (same order). */
function issuesByName(graph: FunctionalModelSpec, issues: readonly SpecIssue[]): Map<string, SpecIssue[]> {
  const map = new Map<string, SpecIssue[]>();
  for (const issue of issues) {
    if (issue.incomplete) continue;
    const name = issue.layerName ?? (issue.layerIndex !== null ? graph.config.layers[issue.layerIndex]?.name : undefined);
    if (name === undefined) continue;
    map.set(name, [...(map.get(name) ?? []), issue]);
  }
  return map;
}

/** "Layer 4 'add' (Add): " — the block already says which layer it is. */
const LAYER_PREFIX = /^Layer \d+ '[^']*' \([^)]*\):\s*/;

const mentions = (message: string, name: string): boolean => new RegExp(`(^|[^\\w])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w]|$)`).test(message);

/**
 * Blocks and wires for `graph`. An issue of a layer that also names one of its inputs (a merge whose inputs
 * disagree quotes both) is drawn on that wire too.
 */
export function flowModel(
  graph: FunctionalModelSpec,
  summary: SpecSummary | null,
  positions: ReadonlyMap<string, XY>,
  selected: readonly string[],
): FlowDrawing {
  const rows = new Map((summary?.rows ?? []).map((r) => [r.name, r]));
  const issues = issuesByName(graph, summary?.issues ?? []);
  const nodes = graph.config.layers.map((l): BlockNode => {
    const row = rows.get(l.name);
    const own = [...(issues.get(l.name) ?? [])].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
    return {
      id: l.name,
      type: 'block',
      position: positions.get(l.name) ?? { x: 0, y: 0 },
      selected: selected.includes(l.name),
      data: {
        name: l.name,
        className: l.class_name,
        caption: layerCaption(l),
        shape: row ? formatShape(row.outputShape) : null,
        params: row ? formatCount(row.params) : null,
        issues: own.map((i) => i.message.replace(LAYER_PREFIX, '')),
        severity: own.length === 0 ? null : own[0].severity,
        merge: isMergeClass(l.class_name),
      },
    };
  });
  const edges = graph.config.layers.flatMap((l) =>
    inboundLayerNames(l).map((source, slot): WireEdge => {
      const issue = (issues.get(l.name) ?? []).find((i) => i.severity === 'error' && mentions(i.message, source));
      const id = wireId(source, l.name, slot);
      return {
        id,
        source,
        target: l.name,
        selected: selected.includes(id),
        class: issue ? 'wire-error' : undefined,
        label: issue ? '!' : undefined,
        ariaLabel: `Wire from ${source} to ${l.name}${issue ? `: ${issue.message}` : ''}`,
        data: { issue: issue?.message ?? null },
      };
    }),
  );
  return { nodes, edges };
}

/** Equal as drawn: arrays item by item, plain objects key by key, anything else by identity. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Whether `shown` already draws `next`: every field this module sets (Svelte Flow's own additions to `shown`,
 * such as `measured`, are not ours to compare), with `selected` unset meaning not selected.
 */
function drawsSame<T extends BlockNode | WireEdge>(shown: T, next: T): boolean {
  if ((shown.selected ?? false) !== (next.selected ?? false)) return false;
  const s = shown as Record<string, unknown>;
  const n = next as Record<string, unknown>;
  return Object.keys(n).every((k) => k === 'selected' || same(s[k], n[k]));
}

const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((i) => [i.id, i]));

/** `next` when some item is not the one `shown` holds at its place; else `shown` itself. */
const sameList = <T>(shown: readonly T[], next: T[]): T[] =>
  shown.length === next.length && next.every((item, i) => item === shown[i]) ? (shown as T[]) : next;

/**
 * `next` with the objects of `shown` (the drawing Svelte Flow has) wherever they draw the same block or wire.
 *
 * Why: Svelte Flow adopts a node object it has not seen as a new node. One without `measured` loses its
 * measured size and port positions (`adoptUserNodes` drops `internals.handleBounds`), is hidden until its
 * ResizeObserver measures it again, and meanwhile has no ports to connect to: a wire released in that frame
 * (a summary landing mid-drag redraws every block) was dropped. So an unchanged block is handed back as the
 * very object Svelte Flow has (nothing to adopt), a changed one keeps its data object where only the rest
 * changed and carries its `measured` size, as Svelte Flow's own update examples do (`{ ...node, data }`), so its
 * ports stay where they were until the browser measures the block again. Wires likewise keep their objects.
 */
export function keepIdentity(shown: FlowDrawing | null, next: FlowDrawing): FlowDrawing {
  if (shown === null) return next;
  const oldNodes = byId(shown.nodes);
  const nodes = next.nodes.map((node): BlockNode => {
    const old = oldNodes.get(node.id);
    if (old === undefined) return node;
    if (drawsSame(old, node)) return old;
    const data = same(old.data, node.data) ? old.data : node.data;
    // A block of another class may have other ports (an InputLayer has no input): that one is measured afresh.
    if (old.measured === undefined || old.data.className !== node.data.className) return { ...node, data };
    return { ...node, data, measured: old.measured };
  });
  const oldEdges = byId(shown.edges);
  const edges = next.edges.map((edge): WireEdge => {
    const old = oldEdges.get(edge.id);
    return old !== undefined && drawsSame(old, edge) ? old : edge;
  });
  return { nodes: sameList(shown.nodes, nodes), edges: sameList(shown.edges, edges) };
}

/** The wire an edge id names, or null for an id this module did not make. */
export function parseWireId(id: string): { source: string; target: string; slot: number } | null {
  const m = /^(.*)->(.*)#(\d+)$/.exec(id);
  return m ? { source: m[1], target: m[2], slot: Number(m[3]) } : null;
}
