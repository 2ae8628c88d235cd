/**
 * The project being edited: the model spec (with undo/redo and a live, debounced summary from the core),
 * the hyperparameter form's draft and its parsed value, and the dataset. The training dashboard reads
 * `trainingRequest` / `hyperparametersValid` / `specValid` from here to start a run.
 *
 * The spec is `$state.raw` and only ever replaced, never mutated: every edit goes through a pure function of
 * `lib/editor/layer-ops`, so the previous object can be kept as the undo snapshot as-is.
 */
import type { DatasetInfo, OpenedWeightsInfo, Project, TrainingRequest, WorkbenchApi } from '$shared/contract';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, inboundLayerNames, isFunctionalSpec } from '$shared/spec';
import type { AnyModelSpec, FunctionalModelSpec, Hyperparameters, LayerClassName, SpecIssue, SpecSummary } from '$shared/spec';
import { LAYER_FIELDS } from '$shared/layer-fields';
import { History } from '../editor/history';
import { cloneSpec, duplicateLayer, emptySpec, insertLayer, moveLayer, removeLayer, setLayerField, setModelName } from '../editor/layer-ops';
import { starterConfig } from '../editor/field-input';
import { addBlock, copyBlocks, pasteBlocks, removeBlocks, setBlockField, settle, toGraph } from '../canvas/graph-ops';
import type { XY } from '../canvas/layout';
import { checkDraft, toDraft } from '../hyperparameters/draft';
import type { DraftField, HyperparameterDraft } from '../hyperparameters/draft';
import { AUTOSAVE_KEY, parseAutosave, serializeAutosave } from './autosave';
import { nowIso } from './clock';

/** Text in a layer field that is not a value yet ("abc" in filters): the spec keeps its last good value. */
export interface FieldDraftError {
  index: number;
  field: string;
  message: string;
}

/** Where autosave writes: the page's localStorage, or nothing where there is none (node tests). */
type AutosaveStorage = Pick<Storage, 'getItem' | 'setItem'>;
const defaultStorage = (): AutosaveStorage | null => (typeof localStorage === 'undefined' ? null : localStorage);

/** Fashion-MNIST is the lesson's dataset and the default wherever it is installed. */
export const DEFAULT_DATASET_ID = 'fashion-mnist';
/** Long enough to batch the keystrokes of one number, short enough to feel live. */
const SUMMARY_DEBOUNCE_MS = 120;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e));

export class ProjectState {
  /** Sequential while the model is a chain (the list edits it), Functional once the canvas adds a branch. */
  spec = $state.raw<AnyModelSpec>(emptySpec());
  #selected = $state<number | null>(null);
  /** Index of the selected layer in the stack, or null. Another selection drops the old form's unparsed text. */
  get selected(): number | null {
    return this.#selected;
  }
  set selected(index: number | null) {
    if (index !== this.#selected) this.fieldDrafts = [];
    this.#selected = index;
  }
  /** Layer fields holding text that does not parse: while any does, the spec on screen is not what would train. */
  fieldDrafts = $state.raw<FieldDraftError[]>([]);
  /** The latest summary received; kept on screen while the next one is in flight. */
  summary = $state.raw<SpecSummary | null>(null);
  /** The spec that `summary` describes: a summary of an older spec is never shown as up to date. */
  summarySpec = $state.raw<AnyModelSpec | null>(null);
  readonly summaryCurrent = $derived(this.summarySpec === this.spec);
  /** True when the work differs from what was last saved, opened or started with. */
  dirty = $state(false);
  /** When the autosave brought back the previous session's work (shown once, then cleared). */
  restoredAt = $state<string | null>(null);
  summaryPending = $state(false);
  /** Set when the summarize call itself failed (services unreachable), not when the spec is invalid. */
  summaryError = $state<string | null>(null);
  canUndo = $state(false);
  canRedo = $state(false);

  draft = $state<HyperparameterDraft>(toDraft(LESSON_HYPERPARAMETERS));
  /** The last hyperparameters that passed every check (what Train would use). */
  hyperparameters = $state.raw<Hyperparameters>(LESSON_HYPERPARAMETERS);
  limitTrain = $state<number | null>(null);
  limitTest = $state<number | null>(null);
  /**
   * Trained weights the services hold from the model file opened last (a .keras archive); null for any other model.
   * Not saved with the work: after a restart the services no longer hold them.
   */
  openedWeights = $state.raw<OpenedWeightsInfo | null>(null);
  /** Whether Train starts from `openedWeights` (fine-tuning) or from fresh weights. */
  startFromOpened = $state(true);
  /**
   * Where the canvas' blocks are, by layer name: written by the canvas as they move (a plain field, so a drag does
   * not re-derive anything), saved with the project and the autosave.
   */
  canvasPositions: Readonly<Record<string, XY>> = {};
  /** Bumped when another model comes in (open, template, New, restore): the canvas then takes `canvasPositions` afresh. */
  layoutEpoch = $state(0);
  #datasetId = $state<string | null>(DEFAULT_DATASET_ID);
  get datasetId(): string | null {
    return this.#datasetId;
  }
  set datasetId(id: string | null) {
    if (id === this.#datasetId) return;
    this.#datasetId = id;
    this.#changed();
  }

  /** The datasets the services offer (set by AppState): the form warns about sizes against the chosen one. */
  datasets = $state.raw<DatasetInfo[]>([]);
  readonly dataset = $derived(this.datasets.find((d) => d.id === this.#datasetId) ?? null);
  readonly draftCheck = $derived(checkDraft(this.draft, { trainImages: this.dataset?.trainCount ?? null, testImages: this.dataset?.testCount ?? null }));
  /** Values that run but are probably not meant, with the reason (they do not block Train). */
  readonly hyperparameterWarnings = $derived(this.draftCheck.warnings);
  /** One reason per invalid form field. */
  readonly hyperparameterErrors = $derived(this.draftCheck.errors);
  /** False while any hyperparameter field holds a refused value: Train must stay disabled. */
  readonly hyperparametersValid = $derived(this.draftCheck.value !== null);
  /** True when the core accepted the current spec (and the summary is not stale). */
  readonly specValid = $derived(
    this.summary?.ok === true && this.summaryCurrent && !this.summaryPending && this.spec.config.layers.length > 0 && this.fieldDrafts.length === 0,
  );
  /** Issues per layer index, for marking rows in the stack and the summary. */
  readonly issuesByLayer = $derived(groupIssues(this.summary?.issues ?? []));
  /**
   * Issues of a summary of the same number of layers: while a reply about another stack is on screen (a cold
   * start answering for the empty model, a layer just added) its model-wide issues would describe a model
   * that is not there ("the model has no layers" beside two layers).
   */
  readonly summaryIssues = $derived(this.summarySpec?.config.layers.length === this.spec.config.layers.length ? (this.summary?.issues ?? []) : []);
  readonly modelIssues = $derived(this.summaryIssues.filter((i) => i.layerIndex === null));
  /** What Train sends, or null while the spec, the hyperparameters or the dataset are not usable. */
  readonly trainingRequest = $derived<TrainingRequest | null>(
    this.specValid && this.hyperparametersValid && this.datasetId
      ? {
          spec: this.spec,
          hyperparameters: this.hyperparameters,
          datasetId: this.datasetId,
          ...(this.limitTrain !== null ? { limitTrain: this.limitTrain } : {}),
          ...(this.limitTest !== null ? { limitTest: this.limitTest } : {}),
          ...(this.openedWeights && this.startFromOpened ? { startFromWeights: this.openedWeights.id } : {}),
        }
      : null,
  );

  #api: () => WorkbenchApi;
  #history = new History<AnyModelSpec>(200);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #sequence = 0;
  /** Set by the first edit, New or Open: from then on the startup model must not replace the user's. */
  #touched = false;

  #storage: AutosaveStorage | null;

  constructor(api: () => WorkbenchApi, storage: AutosaveStorage | null = defaultStorage()) {
    this.#api = api;
    this.#storage = storage;
  }

  // ------------------------------------------------------------ autosave and the unsaved mark

  /** Something the user did changed the project: mark it unsaved and keep it. */
  #changed(): void {
    this.dirty = true;
    this.#persist();
  }

  #persist(): void {
    if (!this.#storage) return;
    try {
      this.#storage.setItem(
        AUTOSAVE_KEY,
        serializeAutosave({
          spec: this.spec,
          draft: $state.snapshot(this.draft),
          datasetId: this.#datasetId,
          canvasPositions: this.canvasPositions,
          dirty: this.dirty,
          savedAt: nowIso(),
        }),
      );
    } catch {
      // A full or disabled storage only loses the autosave; the work on screen is unaffected.
    }
  }

  /** Bring back the previous session's work, if the autosave kept any. Returns whether it did. */
  restore(): boolean {
    const record = parseAutosave(this.#storage?.getItem(AUTOSAVE_KEY) ?? null);
    if (!record) return false;
    this.#touched = true;
    this.spec = record.spec;
    this.#history.clear();
    this.#selected = null;
    this.draft = record.draft;
    const check = checkDraft(record.draft);
    if (check.value) {
      this.hyperparameters = check.value.hyperparameters;
      this.limitTrain = check.value.limitTrain;
      this.limitTest = check.value.limitTest;
    }
    this.#datasetId = record.datasetId;
    this.#newLayout(record.canvasPositions);
    this.dirty = record.dirty;
    this.restoredAt = record.savedAt || nowIso();
    this.#afterChange(null);
    return true;
  }

  /** The canvas moved blocks (a drag ended, an auto layout): part of the work, so unsaved and autosaved. */
  positionsMoved(): void {
    this.#changed();
  }

  #newLayout(positions: Readonly<Record<string, XY>>): void {
    this.canvasPositions = positions;
    this.layoutEpoch++;
  }

  /** After Save: the work on screen is what the file holds. */
  markSaved(): void {
    this.dirty = false;
    this.#persist();
  }

  // ------------------------------------------------------------ unparsed layer-field text

  fieldDraftError(index: number, field: string): string | null {
    return this.fieldDrafts.find((d) => d.index === index && d.field === field)?.message ?? null;
  }

  /** A layer field reports text that does not parse (message) or that it parses again (null). */
  setFieldDraftError(index: number, field: string, message: string | null): void {
    const others = this.fieldDrafts.filter((d) => d.index !== index || d.field !== field);
    this.fieldDrafts = message === null ? others : [...others, { index, field, message }];
  }

  // ------------------------------------------------------------ spec edits (all undoable)

  /** Replace the spec, recording the old one for undo. `key` merges rapid edits of one field into one step. */
  #commit(next: AnyModelSpec, key?: string): void {
    if (next === this.spec) return;
    this.#touched = true;
    this.#history.record(this.spec, key);
    const previous = this.spec;
    this.spec = next;
    this.#afterChange(previous);
    this.#changed();
  }

  /**
   * After any replacement of the spec. Unparsed field text survives only while its field still holds the
   * value it was typed over (an edit of another field); once that value changes (undo, redo, a move) the
   * form shows the new value and the text is gone.
   */
  #afterChange(previous: AnyModelSpec | null): void {
    if (this.fieldDrafts.length > 0) {
      const layers = this.spec.config.layers;
      const before = previous?.config.layers ?? [];
      this.fieldDrafts = this.fieldDrafts.filter(
        (d) =>
          layers[d.index] !== undefined &&
          before[d.index] !== undefined &&
          layers[d.index].class_name === before[d.index].class_name &&
          JSON.stringify(layers[d.index].config[d.field]) === JSON.stringify(before[d.index].config[d.field]),
      );
    }
    this.canUndo = this.#history.canUndo;
    this.canRedo = this.#history.canRedo;
    const n = this.spec.config.layers.length;
    if (this.selected !== null && this.selected >= n) this.selected = n > 0 ? n - 1 : null;
    this.scheduleSummary();
  }

  /**
   * Add a layer of `className`, prefilled with its required fields: at `options.at` (a drop), at the end
   * (`append`, or nothing selected), or else right after the selected layer. The new layer is selected.
   */
  addLayer(className: LayerClassName, options: { append?: boolean; at?: number } = {}): void {
    const spec = this.spec;
    const n = spec.config.layers.length;
    if (isFunctionalSpec(spec)) {
      // A graph has no "after" in a list: the new block reads the selected one (or nothing, when appended).
      const after = options.append || this.selected === null ? null : (spec.config.layers[this.selected]?.name ?? null);
      const added = addBlock(spec, className, starterConfig(LAYER_FIELDS[className]), after);
      this.commitGraph(added.spec);
      this.selectName(added.name);
      return;
    }
    const at = options.at ?? (options.append || this.selected === null ? n : this.selected + 1);
    const r = insertLayer(spec, { class_name: className, config: starterConfig(LAYER_FIELDS[className]) }, at);
    this.#commit(r.spec);
    this.selected = r.index;
  }

  removeLayer(index: number): void {
    const spec = this.spec;
    if (!isFunctionalSpec(spec)) this.#commit(removeLayer(spec, index));
    else if (spec.config.layers[index]) this.commitGraph(removeBlocks(spec, [spec.config.layers[index].name]));
  }

  /** Copy a layer right after itself (in a graph: a copy reading the same input). */
  duplicateLayer(index: number): void {
    const spec = this.spec;
    if (isFunctionalSpec(spec)) {
      const layer = spec.config.layers[index];
      if (!layer) return;
      const pasted = pasteBlocks(spec, copyBlocks(spec, [layer.name]), inboundLayerNames(layer)[0] ?? null);
      this.commitGraph(pasted.spec);
      this.selectName(pasted.names.get(layer.name) ?? null);
      return;
    }
    const r = duplicateLayer(spec, index);
    this.#commit(r.spec);
    this.selected = r.index;
  }

  /** Move a layer to index `to`; the selection follows it. Out-of-range targets are ignored (top/bottom). */
  moveLayer(from: number, to: number): void {
    const spec = this.spec;
    const n = spec.config.layers.length;
    // A graph's order follows its wires: it is changed on the canvas, not by moving rows.
    if (to < 0 || to >= n || from === to || isFunctionalSpec(spec)) return;
    this.#commit(moveLayer(spec, from, to));
    this.selected = to;
  }

  /** Set (or with `undefined`, clear back to the Keras default) one config field. */
  setField(index: number, field: string, value: unknown): void {
    if (isFunctionalSpec(this.spec)) {
      const name = this.spec.config.layers[index]?.name;
      if (name !== undefined) this.#commit(settle(setBlockField(this.spec, name, field, value)), `field:${index}:${field}`);
      return;
    }
    this.#commit(setLayerField(this.spec, index, field, value), `field:${index}:${field}`);
  }

  setModelName(name: string): void {
    this.#commit(setModelName(this.spec, name), 'model-name');
  }

  /** A canvas edit: stored as Sequential while the graph is a chain, else as Functional. One undo step. */
  commitGraph(graph: FunctionalModelSpec): void {
    this.#commit(settle(graph));
  }

  /** Select a layer by its name (the canvas' block ids); null clears the selection. */
  selectName(name: string | null): void {
    const index = name === null ? -1 : toGraph(this.spec).config.layers.findIndex((l) => l.name === name);
    this.selected = index < 0 ? null : index;
  }

  /** Load a template or any other spec as one undoable edit; `weights`: the trained weights opened with it. */
  replaceSpec(spec: AnyModelSpec, weights: OpenedWeightsInfo | null = null): void {
    this.#newLayout({});
    this.#commit(cloneSpec(spec));
    this.selected = spec.config.layers.length > 0 ? 0 : null;
    this.openedWeights = weights;
    this.startFromOpened = true;
  }

  undo(): void {
    const current = this.spec;
    const previous = this.#history.undo(current);
    if (previous) {
      this.spec = previous;
      this.#afterChange(current);
      this.#changed();
    }
  }

  redo(): void {
    const current = this.spec;
    const next = this.#history.redo(current);
    if (next) {
      this.spec = next;
      this.#afterChange(current);
      this.#changed();
    }
  }

  // ------------------------------------------------------------ live summary

  /** Ask the core for a summary of the current spec shortly; later requests supersede earlier ones. */
  scheduleSummary(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.summaryPending = true;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#summarize();
    }, SUMMARY_DEBOUNCE_MS);
  }

  async #summarize(): Promise<void> {
    const sequence = ++this.#sequence;
    const spec = this.spec;
    try {
      const summary = await this.#api().model.summarize(spec);
      if (sequence !== this.#sequence) return; // a newer edit is being summarised
      this.summary = summary;
      this.summarySpec = spec;
      this.summaryError = null;
    } catch (e) {
      if (sequence !== this.#sequence) return;
      this.summaryError = `The model could not be summarised: ${messageOf(e)}`;
    } finally {
      if (sequence === this.#sequence && this.#timer === null) this.summaryPending = false;
    }
  }

  // ------------------------------------------------------------ hyperparameters

  /** Update one form field; the parsed hyperparameters follow only when every field is valid. */
  setDraftField<K extends DraftField>(field: K, value: HyperparameterDraft[K]): void {
    this.draft[field] = value;
    const check = checkDraft(this.draft);
    if (check.value) {
      this.hyperparameters = check.value.hyperparameters;
      this.limitTrain = check.value.limitTrain;
      this.limitTest = check.value.limitTest;
    }
    this.#changed();
  }

  /** Back to the lesson's hyperparameters (the image limits are kept: they are not hyperparameters). */
  resetHyperparameters(): void {
    this.draft = toDraft(LESSON_HYPERPARAMETERS, { limitTrain: this.limitTrain, limitTest: this.limitTest });
    this.hyperparameters = LESSON_HYPERPARAMETERS;
    this.#changed();
  }

  // ------------------------------------------------------------ whole projects

  /** What Save writes. */
  toProject(): Project {
    const positions = Object.keys(this.canvasPositions).length > 0 ? { canvasPositions: { ...this.canvasPositions } } : {};
    return { format_version: SPEC_FORMAT_VERSION, spec: cloneSpec(this.spec), hyperparameters: this.hyperparameters, datasetId: this.datasetId, ...positions };
  }

  /** True until the user edits, opens or starts a project: the app may still put its startup model in. */
  get pristine(): boolean {
    return !this.#touched;
  }

  /** The model the app starts with (the lesson's CNN): shown as if opened, no undo step, nothing touched. */
  startWith(spec: AnyModelSpec): void {
    this.#newLayout({});
    this.spec = cloneSpec(spec);
    this.#history.clear();
    this.selected = null;
    this.#afterChange(null);
    this.dirty = false;
    this.#persist();
  }

  /** Open a project: a fresh undo history, the form reset to its hyperparameters. */
  loadProject(project: Project): void {
    this.#touched = true;
    this.spec = cloneSpec(project.spec);
    this.#history.clear();
    this.selected = project.spec.config.layers.length > 0 ? 0 : null;
    this.draft = toDraft(project.hyperparameters);
    this.hyperparameters = project.hyperparameters;
    this.limitTrain = null;
    this.limitTest = null;
    this.openedWeights = null;
    this.#newLayout(project.canvasPositions ?? {});
    this.#datasetId = project.datasetId ?? DEFAULT_DATASET_ID;
    this.#afterChange(null);
    this.dirty = false;
    this.#persist();
  }

  /**
   * New: an empty model and the lesson's hyperparameters. Emptying the model is an undoable edit, so a
   * mistaken New costs one Ctrl+Z rather than the work.
   */
  newProject(): void {
    this.#touched = true;
    this.#newLayout({});
    this.#commit(emptySpec());
    this.selected = null;
    this.openedWeights = null;
    this.limitTrain = null;
    this.limitTest = null;
    this.resetHyperparameters();
  }
}

function groupIssues(issues: SpecIssue[]): Map<number, SpecIssue[]> {
  // Built once per summary and then only read: the derived value is replaced, never mutated.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const map = new Map<number, SpecIssue[]>();
  for (const issue of issues) {
    if (issue.layerIndex === null) continue;
    map.set(issue.layerIndex, [...(map.get(issue.layerIndex) ?? []), issue]);
  }
  return map;
}

