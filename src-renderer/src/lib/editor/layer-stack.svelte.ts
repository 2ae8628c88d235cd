/**
 * The layer stack's interaction state (drag source, drop position) and its commands (select, move, keys,
 * drag and drop), in one object the stack creates and every row reads. A row then needs only what differs
 * per row (index, layer, name, summary row, severity) instead of ten callbacks.
 */
import { tick } from 'svelte';
import { LAYER_CLASS_NAMES } from '$shared/spec';
import type { LayerClassName } from '$shared/spec';
import type { ProjectState } from '../state/project.svelte';

/** The drag-and-drop data type a palette entry carries, so the stack can tell it from a row being moved. */
export const PALETTE_MIME = 'application/x-cnn-workbench-layer';

export class LayerStackState {
  dragFrom = $state<number | null>(null);
  /** Where a drop would insert: before this index (length = at the end). */
  dropAt = $state<number | null>(null);
  /** The stack's list element, for moving focus to a row after a keyboard command. */
  list = $state.raw<HTMLOListElement | undefined>(undefined);

  readonly project: ProjectState;

  constructor(project: ProjectState) {
    this.project = project;
  }

  get length(): number {
    return this.project.spec.config.layers.length;
  }

  async focusRow(i: number): Promise<void> {
    await tick();
    this.list?.querySelector<HTMLButtonElement>(`[data-testid="layer-row-${i}"]`)?.focus();
  }

  select(i: number, focus = true): void {
    if (i < 0 || i >= this.length) return;
    this.project.selected = i;
    if (focus) void this.focusRow(i);
  }

  move(from: number, to: number): void {
    if (to < 0 || to >= this.length) return;
    this.project.moveLayer(from, to);
    void this.focusRow(to);
  }

  duplicate(i: number): void {
    this.project.duplicateLayer(i);
    void this.focusRow(i + 1);
  }

  remove(i: number): void {
    this.project.removeLayer(i);
    if (this.project.selected !== null) void this.focusRow(this.project.selected);
  }

  keydown(e: KeyboardEvent, i: number): void {
    const up = e.key === 'ArrowUp';
    if (e.altKey && (up || e.key === 'ArrowDown')) this.move(i, up ? i - 1 : i + 1);
    else if (up || e.key === 'ArrowDown') this.select(up ? i - 1 : i + 1);
    else if (e.key === 'Home') this.select(0);
    else if (e.key === 'End') this.select(this.length - 1);
    else if (e.key === 'Delete' || e.key === 'Backspace') this.remove(i);
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'd') this.duplicate(i);
    else return;
    e.preventDefault();
  }

  dragstart(e: DragEvent, i: number): void {
    e.dataTransfer?.setData('text/plain', String(i));
    this.dragFrom = i;
  }

  dragend(): void {
    this.dragFrom = null;
    this.dropAt = null;
  }

  /** Over row `i` (or the empty stack, with i = 0 and no element box): before or after it, by the half. */
  dragover(e: DragEvent, i: number): void {
    if (this.dragFrom === null && !e.dataTransfer?.types.includes(PALETTE_MIME)) return;
    e.preventDefault();
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    this.dropAt = this.length === 0 ? 0 : e.clientY < box.top + box.height / 2 ? i : i + 1;
  }

  drop(e: DragEvent): void {
    e.preventDefault();
    const at = this.dropAt ?? this.length;
    const className = e.dataTransfer?.getData(PALETTE_MIME) ?? '';
    if ((LAYER_CLASS_NAMES as readonly string[]).includes(className)) this.project.addLayer(className as LayerClassName, { at });
    else if (this.dragFrom !== null) this.project.moveLayer(this.dragFrom, this.dragFrom < at ? at - 1 : at);
    this.dragend();
  }
}
