/**
 * The canvas' state: the blocks and wires Svelte Flow draws (derived from the project's spec and summary) and
 * the canvas commands (drop, connect, delete, copy/paste, auto layout). Every edit goes through the project as
 * one undoable spec change, so the list and the canvas always show the same model and Ctrl+Z undoes either.
 *
 * Svelte Flow writes back through `nodes`/`edges` (drags, selection, measured sizes). Those writes are kept as an
 * overlay for the drawing they were made on (a new spec or a new summary draws afresh); positions and the
 * selection are also remembered by name, so a new spec (an edit, an undo) is drawn with blocks where the user
 * left them. A fresh drawing reuses the objects Svelte Flow has for every block and wire it draws the same
 * (`keepIdentity`): a summary landing while a wire is being drawn must not make Svelte Flow adopt every block
 * anew, which hides them unmeasured for a frame and drops the wire.
 */
import type { Connection } from '@xyflow/svelte';
import type { LayerClassName } from '$shared/spec';
import { LAYER_FIELDS } from '$shared/layer-fields';
import type { ProjectState } from '../state/project.svelte';
import { starterConfig } from '../editor/field-input';
import { addBlock, connect, copyBlocks, disconnect, freshNames, pasteBlocks, removeBlocks, toGraph, wouldCycle } from './graph-ops';
import type { GraphFragment } from './graph-ops';
import { flowModel, keepIdentity, parseWireId } from './flow-model';
import type { BlockNode, FlowDrawing, WireEdge } from './flow-model';
import { BLOCK_WIDTH, autoLayout, placeNew, withPositions } from './layout';
import type { XY } from './layout';
import { isMergeClass } from '$shared/layers/index';

export class CanvasState {
  readonly project: ProjectState;
  readonly graph = $derived.by(() => toGraph(this.project.spec));
  /** Bumped to ask the flow to fit the view (after an auto layout). */
  fitRequest = $state(0);
  /** Bumped by Auto layout: the next drawing lays every block out again. */
  #layoutRequest = $state(0);
  #laidOut = 0;
  // Remembered across specs, read while deriving: plain fields on purpose, so a drag does not re-derive.
  #positions: ReadonlyMap<string, XY> = withPositions(null, []);
  /** The project's layoutEpoch the positions belong to: another model coming in brings its own (or none). */
  #epoch = -1;
  #selected: readonly string[] = [];
  /** The drawing Svelte Flow last had, ours or its write-back (with the measured sizes): the next one reuses it. */
  #shown: FlowDrawing | null = null;
  #clipboard = $state.raw<GraphFragment | null>(null);
  #overlay = $state.raw<{ model: object; nodes: BlockNode[]; edges: WireEdge[] } | null>(null);

  readonly #model = $derived.by(() => {
    const graph = this.graph;
    if (this.project.layoutEpoch !== this.#epoch) {
      this.#epoch = this.project.layoutEpoch;
      this.#positions = withPositions(null, Object.entries(this.project.canvasPositions));
    }
    if (this.#layoutRequest !== this.#laidOut) {
      this.#laidOut = this.#layoutRequest;
      this.#place(autoLayout(graph));
    } else this.#place(placeNew(graph, this.#positions));
    const drawing = keepIdentity(this.#shown, flowModel(graph, this.project.summary, this.#positions, this.#selected));
    this.#shown = drawing;
    return { graph, ...drawing };
  });

  constructor(project: ProjectState) {
    this.project = project;
  }

  get nodes(): BlockNode[] {
    const overlay = this.#overlay;
    return overlay !== null && overlay.model === this.#model ? overlay.nodes : this.#model.nodes;
  }
  set nodes(nodes: BlockNode[]) {
    this.#place(withPositions(null, nodes.map((n) => [n.id, n.position])));
    this.#remember(nodes, this.edges);
  }
  get edges(): WireEdge[] {
    const overlay = this.#overlay;
    return overlay !== null && overlay.model === this.#model ? overlay.edges : this.#model.edges;
  }
  set edges(edges: WireEdge[]) {
    this.#remember(this.nodes, edges);
  }

  /** The blocks' positions, here and in the project (saved with it; a plain field, so nothing re-derives). */
  #place(positions: ReadonlyMap<string, XY>): void {
    this.#positions = positions;
    this.project.canvasPositions = Object.fromEntries(positions);
  }

  /** A drag ended: the new positions are part of the work (unsaved, autosaved). */
  moved = (): void => {
    this.project.positionsMoved();
  };

  #remember(nodes: BlockNode[], edges: WireEdge[]): void {
    this.#overlay = { model: this.#model, nodes, edges };
    this.#shown = { nodes, edges };
    const picked = nodes.filter((n) => n.selected).map((n) => n.id);
    this.#selected = [...picked, ...edges.filter((e) => e.selected).map((e) => e.id)];
    // The layer form follows a single selected block.
    const name = picked.length === 1 ? picked[0] : null;
    const current = this.project.selected === null ? null : (this.graph.config.layers[this.project.selected]?.name ?? null);
    if (name !== current && (name !== null || picked.length === 0)) this.project.selectName(name);
  }

  /** The selected blocks' names, in model order. */
  get selectedNames(): string[] {
    return this.graph.config.layers.filter((l) => this.#selected.includes(l.name)).map((l) => l.name);
  }

  #select(names: Iterable<string>): void {
    this.#selected = [...names];
  }

  /** A palette entry dropped at `at` (flow coordinates): a new block, not wired yet. */
  drop(className: LayerClassName, at: XY): void {
    const graph = this.graph;
    const [name] = freshNames(graph, [className]);
    this.#place(withPositions(this.#positions, [[name, at]]));
    this.#select([name]);
    this.project.commitGraph(addBlock(graph, className, starterConfig(LAYER_FIELDS[className]), null).spec);
    this.project.selectName(name);
  }

  isValidConnection = (c: Connection | WireEdge): boolean => c.source !== c.target && !wouldCycle(this.graph, c.source, c.target);

  connect = (c: Connection): void => {
    this.project.commitGraph(connect(this.graph, c.source, c.target, isMergeClass));
  };

  /** Keyboard deletion: the blocks, and the wires that do not touch a deleted block (those go with it). */
  delete = ({ nodes, edges }: { nodes: BlockNode[]; edges: WireEdge[] }): void => {
    const gone = nodes.map((n) => n.id);
    const wires = edges.flatMap((e) => parseWireId(e.id) ?? []).filter((w) => !gone.includes(w.source) && !gone.includes(w.target));
    let graph = this.graph;
    if (wires.length > 0) graph = disconnect(graph, wires);
    if (gone.length > 0) graph = removeBlocks(graph, gone);
    this.#select([]);
    this.project.commitGraph(graph);
  };

  /** Ctrl+C: the selected blocks and the wires among them. Returns how many blocks were copied. */
  copy(): number {
    const names = this.selectedNames;
    if (names.length > 0) this.#clipboard = copyBlocks(this.graph, names);
    return names.length;
  }

  get canPaste(): boolean {
    return this.#clipboard !== null;
  }

  /**
   * Ctrl+V: fresh Keras names, internal wires kept. With one block selected the copy is inserted after it (and
   * everything is laid out again, since the blocks below move down); else it lands beside the originals.
   */
  paste(): void {
    const fragment = this.#clipboard;
    if (!fragment) return;
    const picked = this.selectedNames;
    const attach = picked.length === 1 ? picked[0] : null;
    const { spec, names } = pasteBlocks(this.graph, fragment, attach);
    const known = this.#positions;
    // Beside the originals (right of the copied blocks), so the copy never hides them.
    const xs = [...names.keys()].flatMap((n) => known.get(n)?.x ?? []);
    const dx = xs.length > 0 ? Math.max(...xs) - Math.min(...xs) + BLOCK_WIDTH + 40 : 0;
    this.#place(withPositions(
      known,
      [...names].flatMap(([from, to]): [string, XY][] => {
        const at = known.get(from);
        return at ? [[to, { x: at.x + dx, y: at.y }]] : [];
      }),
    ));
    this.#select(names.values());
    this.project.commitGraph(spec);
    // After the commit: the layout is of the graph with the copy in it.
    if (attach !== null) this.autoLayout();
    this.project.selectName(null);
  }

  autoLayout(): void {
    this.#overlay = null;
    this.#layoutRequest++;
    this.fitRequest++;
    // Laid out now (not when next drawn), so the autosave and Save get the new positions at once.
    void this.#model;
    this.project.positionsMoved();
  }
}
