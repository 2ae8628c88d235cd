/**
 * Pure edits of a model as a graph, for the canvas: each takes a spec and returns a new one, never mutating its
 * input (the undo history keeps the old object as its snapshot, as for the list's `layer-ops`).
 *
 * The canvas always edits a Functional spec (layers wired by name). A Sequential model is shown as its chain
 * (`toGraph`), and an edit whose result is still a chain is stored as Sequential again (`settle`), so the list
 * editor keeps working on it; a branch, a merge or a block not yet wired makes the model Functional.
 */
import { functionalLayer, inboundLayerNames, inboundRef, isFunctionalSpec } from '$shared/spec';
import type { AnyModelSpec, FunctionalLayerSpec, FunctionalModelSpec, LayerClassName, LayerConfig, LayerSpec, ModelSpec, TensorRef } from '$shared/spec';
import { kerasLayerNames } from '$shared/layer-names';

/** A wire: the output of `source` feeds input `slot` of `target`. */
export interface Wire {
  source: string;
  target: string;
  slot: number;
}

/** What Ctrl+C keeps: the selected layers (in model order) and the wires between them. */
export interface GraphFragment {
  layers: { class_name: LayerClassName; name: string; config: LayerConfig; inputs: (string | null)[] }[];
}

const tensor = (name: string): TensorRef => [name, 0, 0];
const copyConfig = (config: LayerConfig): LayerConfig => JSON.parse(JSON.stringify(config)) as LayerConfig;


/** The model as a graph: a Sequential model becomes its chain, every layer named as Keras would name it. */
export function toGraph(spec: AnyModelSpec): FunctionalModelSpec {
  if (isFunctionalSpec(spec)) return spec;
  const names = kerasLayerNames(spec.config.layers.map((l) => ({ class_name: l.class_name, name: l.config.name })));
  const layers = spec.config.layers.map((l, i) => functionalLayer(names[i]!, l.class_name, i === 0 ? [] : [names[i - 1]!], copyConfig(l.config)));
  return finish(spec.format_version, spec.config.name, layers);
}

/**
 * Order the layers so each follows its inputs (Keras writes them so; layers on a cycle keep their place at the
 * end, for the validator to name) and derive the model's inputs (its InputLayers) and outputs (layers nothing
 * reads: more than one is a dangling layer, which the validator names).
 */
function finish(formatVersion: number, name: string, layers: FunctionalLayerSpec[]): FunctionalModelSpec {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const placed = new Set<string>();
  const ordered: FunctionalLayerSpec[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const l of layers) {
      if (placed.has(l.name)) continue;
      if (inboundLayerNames(l).every((n) => placed.has(n) || !byName.has(n))) {
        placed.add(l.name);
        ordered.push(l);
        progress = true;
      }
    }
  }
  for (const l of layers) if (!placed.has(l.name)) ordered.push(l);
  const read = new Set(ordered.flatMap(inboundLayerNames));
  return {
    format_version: formatVersion,
    class_name: 'Functional',
    config: {
      name,
      layers: ordered,
      input_layers: ordered.filter((l) => l.class_name === 'InputLayer').map((l) => tensor(l.name)),
      output_layers: ordered.filter((l) => !read.has(l.name) && l.class_name !== 'InputLayer').map((l) => tensor(l.name)),
    },
  };
}

function rebuild(graph: FunctionalModelSpec, layers: FunctionalLayerSpec[]): FunctionalModelSpec {
  return finish(graph.format_version, graph.config.name, layers);
}

/**
 * The layers of a chain in order (one source, each layer read by at most one other and reading at most one),
 * or null when the graph branches, merges or has a block not wired in.
 */
function chainOrder(graph: FunctionalModelSpec): FunctionalLayerSpec[] | null {
  const layers = graph.config.layers;
  if (layers.length === 0) return [];
  const next = new Map<string, string>();
  for (const l of layers) {
    const inputs = inboundLayerNames(l);
    if (inputs.length > 1) return null;
    if (inputs.length === 1) {
      if (next.has(inputs[0])) return null;
      next.set(inputs[0], l.name);
    }
  }
  const sources = layers.filter((l) => inboundLayerNames(l).length === 0);
  if (sources.length !== 1) return null;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const order: FunctionalLayerSpec[] = [];
  for (let at: string | undefined = sources[0].name; at !== undefined && order.length <= layers.length; at = next.get(at)) {
    const layer = byName.get(at);
    if (!layer) return null;
    order.push(layer);
  }
  return order.length === layers.length ? order : null;
}

/**
 * How an edited graph is stored: a chain goes back to Sequential (names equal to Keras' auto names dropped, so
 * the list shows them as automatic again), anything else stays Functional.
 */
export function settle(graph: FunctionalModelSpec): AnyModelSpec {
  const order = chainOrder(graph);
  if (order === null) return graph;
  const layers: LayerSpec[] = order.map((l) => ({ class_name: l.class_name, config: copyConfig(l.config) }));
  // Drop a name when Keras would give the layer that name anyway (earlier drops taken into account).
  const named = layers.map((l) => ({ class_name: l.class_name, name: l.config.name as unknown }));
  for (let i = 0; i < named.length; i++) {
    const own = named[i].name;
    named[i] = { ...named[i], name: null };
    if (kerasLayerNames(named)[i] === own) delete layers[i].config.name;
    else named[i] = { ...named[i], name: own };
  }
  const sequential: ModelSpec = { format_version: graph.format_version, class_name: 'Sequential', config: { name: graph.config.name, layers } };
  return sequential;
}

/** The names Keras would give `classes` added to `graph` (fresh auto names: `conv2d_3` after `conv2d_2`). */
export function freshNames(graph: FunctionalModelSpec, classes: LayerClassName[]): string[] {
  const existing = graph.config.layers.map((l) => ({ class_name: l.class_name, name: l.name }));
  return kerasLayerNames([...existing, ...classes.map((c) => ({ class_name: c, name: null }))]).slice(existing.length);
}

/** Every wire of the graph. */
export function wiresOf(graph: FunctionalModelSpec): Wire[] {
  return graph.config.layers.flatMap((l) => inboundLayerNames(l).map((source, slot) => ({ source, target: l.name, slot })));
}

/**
 * Add a layer of `className`, wired after `after` when given (what clicking the palette with a block selected
 * does). @returns the new graph and the new layer's name
 */
export function addBlock(graph: FunctionalModelSpec, className: LayerClassName, config: LayerConfig, after: string | null): { spec: FunctionalModelSpec; name: string } {
  const [name] = freshNames(graph, [className]);
  const inputs = after !== null && className !== 'InputLayer' && graph.config.layers.some((l) => l.name === after) ? [after] : [];
  return { spec: rebuild(graph, [...graph.config.layers, functionalLayer(name, className, inputs, copyConfig(config))]), name };
}

/** Would a wire from `source` to `target` close a cycle (or join a layer to itself)? */
export function wouldCycle(graph: FunctionalModelSpec, source: string, target: string): boolean {
  const inputs = new Map(graph.config.layers.map((l) => [l.name, inboundLayerNames(l)]));
  const seen = new Set<string>();
  const stack = [source];
  while (stack.length > 0) {
    const at = stack.pop() as string;
    if (at === target) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    stack.push(...(inputs.get(at) ?? []));
  }
  return false;
}

/**
 * Wire `source`'s output into `target`. A layer that takes one input has it replaced (dropping a wire on a
 * taken port rewires it, as in MATLAB's designer); a merge takes one more. Cycles, self-wires, wires into an
 * InputLayer and repeated wires leave the graph as it is.
 * @param merges whether a class takes several inputs (from the layer definitions)
 */
export function connect(graph: FunctionalModelSpec, source: string, target: string, merges: (c: LayerClassName) => boolean): FunctionalModelSpec {
  const to = graph.config.layers.find((l) => l.name === target);
  if (!to || to.class_name === 'InputLayer' || !graph.config.layers.some((l) => l.name === source) || wouldCycle(graph, source, target)) return graph;
  const current = inboundLayerNames(to);
  if (current.includes(source)) return graph;
  const inputs = merges(to.class_name) ? [...current, source] : [source];
  return rebuild(
    graph,
    graph.config.layers.map((l) => (l.name === target ? { ...l, inbound_nodes: [inputs.map(inboundRef)] } : l)),
  );
}

/** Remove wires (matched by source, target and slot). */
export function disconnect(graph: FunctionalModelSpec, wires: Wire[]): FunctionalModelSpec {
  const gone = new Set(wires.map((w) => `${w.source}\u0000${w.target}\u0000${w.slot}`));
  return rebuild(
    graph,
    graph.config.layers.map((l) => {
      const inputs = inboundLayerNames(l);
      const kept = inputs.filter((source, slot) => !gone.has(`${source}\u0000${l.name}\u0000${slot}`));
      return kept.length === inputs.length ? l : { ...l, inbound_nodes: kept.length === 0 ? [] : [kept.map(inboundRef)] };
    }),
  );
}

/**
 * Remove layers and every wire touching them. A removed layer with one input and one reader is bridged
 * (deleting the middle of a chain keeps the chain joined, as the list editor's delete does).
 */
export function removeBlocks(graph: FunctionalModelSpec, names: string[]): FunctionalModelSpec {
  const gone = new Set(names);
  const bridge = new Map<string, string | null>();
  for (const l of graph.config.layers) {
    if (!gone.has(l.name)) continue;
    const inputs = inboundLayerNames(l).filter((n) => !gone.has(n));
    const readers = graph.config.layers.filter((r) => inboundLayerNames(r).includes(l.name));
    bridge.set(l.name, inputs.length === 1 && readers.length === 1 ? inputs[0] : null);
  }
  const resolve = (n: string): string | null => {
    let at: string | null = n;
    for (let hops = 0; at !== null && gone.has(at) && hops <= names.length; hops++) at = bridge.get(at) ?? null;
    return at !== null && gone.has(at) ? null : at;
  };
  const layers = graph.config.layers
    .filter((l) => !gone.has(l.name))
    .map((l) => {
      const inputs = inboundLayerNames(l);
      const kept = [...new Set(inputs.map(resolve).filter((n): n is string => n !== null))];
      return kept.length === inputs.length && kept.every((n, i) => n === inputs[i]) ? l : { ...l, inbound_nodes: kept.length === 0 ? [] : [kept.map(inboundRef)] };
    });
  return rebuild(graph, layers);
}

/** Rename a layer everywhere it is named (its entry, its config and every wire reading it). */
export function renameBlock(graph: FunctionalModelSpec, from: string, to: string): FunctionalModelSpec {
  if (from === to || to === '' || graph.config.layers.some((l) => l.name === to)) return graph;
  const layers = graph.config.layers.map((l) => {
    const inputs = inboundLayerNames(l);
    const renamed = l.name === from ? { ...l, name: to, config: { ...l.config, name: to } } : l;
    return inputs.includes(from) ? { ...renamed, inbound_nodes: [inputs.map((n) => inboundRef(n === from ? to : n))] } : renamed;
  });
  return rebuild(graph, layers);
}

/** Set one config field of one layer (`undefined` clears it back to the Keras default). `name` renames. */
export function setBlockField(graph: FunctionalModelSpec, name: string, field: string, value: unknown): FunctionalModelSpec {
  if (field === 'name') {
    const target = graph.config.layers.find((l) => l.name === name);
    if (!target) return graph;
    const to = typeof value === 'string' && value !== '' ? value : freshNames(rebuild(graph, graph.config.layers.filter((l) => l !== target)), [target.class_name])[0];
    return renameBlock(graph, name, to);
  }
  return rebuild(
    graph,
    graph.config.layers.map((l) => {
      if (l.name !== name) return l;
      const config: LayerConfig = { ...l.config };
      if (value === undefined) delete config[field];
      else config[field] = value;
      return { ...l, config };
    }),
  );
}

/** Copy the named layers; wires among them are kept, wires from outside become open inputs (null). */
export function copyBlocks(graph: FunctionalModelSpec, names: string[]): GraphFragment {
  const picked = new Set(names);
  const layers = graph.config.layers
    .filter((l) => picked.has(l.name))
    .map((l) => ({ class_name: l.class_name, name: l.name, config: copyConfig(l.config), inputs: inboundLayerNames(l).map((n) => (picked.has(n) ? n : null)) }));
  return { layers };
}

/**
 * Paste a copied fragment: each layer gets a fresh Keras auto name and the fragment's internal wires follow the
 * renaming. With `attachTo`, the paste is inserted after that layer: open inputs (wires from outside the copy)
 * read it, and what read it reads the fragment's one exit instead — so copying a residual block and pasting it
 * with the block's Add selected inserts the next residual block. Without it, open inputs stay open.
 * @returns the new graph and the pasted layers' names, old name → new name
 */
export function pasteBlocks(graph: FunctionalModelSpec, fragment: GraphFragment, attachTo: string | null = null): { spec: FunctionalModelSpec; names: Map<string, string> } {
  const fresh = freshNames(
    graph,
    fragment.layers.map((l) => l.class_name),
  );
  const names = new Map(fragment.layers.map((l, i) => [l.name, fresh[i]]));
  const attach = attachTo !== null && graph.config.layers.some((l) => l.name === attachTo) ? attachTo : null;
  const pasted = fragment.layers.map((l) => {
    const inputs = [...new Set(l.inputs.map((n) => (n === null ? attach : (names.get(n) ?? null))).filter((n): n is string => n !== null))];
    return functionalLayer(names.get(l.name) as string, l.class_name, l.class_name === 'InputLayer' ? [] : inputs, copyConfig(l.config));
  });
  const readInside = new Set(fragment.layers.flatMap((l) => l.inputs));
  const exits = fragment.layers.filter((l) => !readInside.has(l.name));
  const exit = attach !== null && exits.length === 1 ? (names.get(exits[0].name) as string) : null;
  const existing =
    exit === null
      ? graph.config.layers
      : graph.config.layers.map((l) => {
          const inputs = inboundLayerNames(l);
          return inputs.includes(attach as string) ? { ...l, inbound_nodes: [inputs.map((n) => inboundRef(n === attach ? exit : n))] } : l;
        });
  return { spec: rebuild(graph, [...existing, ...pasted]), names };
}
