/**
 * A bounded undo/redo history of immutable snapshots.
 *
 * Snapshots rather than inverse operations: a spec is small (a few KB of JSON), so storing whole copies is
 * cheap and cannot drift out of sync with the editing code. Consecutive edits that share a coalescing key
 * (typing into one field) within a short window become one undo step, so Ctrl+Z undoes "the edit", not
 * "the last keystroke".
 */
export class History<T> {
  readonly #limit: number;
  readonly #coalesceMs: number;
  #past: T[] = [];
  #future: T[] = [];
  #lastKey: string | null = null;
  #lastAt = 0;

  /**
   * @param limit how many undo steps to keep (the oldest are dropped first)
   * @param coalesceMs edits with the same key closer together than this merge into one step
   */
  constructor(limit = 100, coalesceMs = 1000) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`History limit must be a whole number ≥ 1, received ${limit}`);
    this.#limit = limit;
    this.#coalesceMs = coalesceMs;
  }

  /**
   * Record the state as it was *before* an edit. Clears the redo stack, as every editor does.
   * @param before snapshot to return to on undo (must not be mutated afterwards)
   * @param key coalescing key, e.g. `field:3:filters`; omit for edits that must always be their own step
   * @param now timestamp in ms, injectable for tests
   */
  record(before: T, key?: string, now: number = Date.now()): void {
    const merge = key !== undefined && key === this.#lastKey && now - this.#lastAt < this.#coalesceMs && this.#past.length > 0;
    if (!merge) {
      this.#past.push(before);
      if (this.#past.length > this.#limit) this.#past.shift();
    }
    this.#future = [];
    this.#lastKey = key ?? null;
    this.#lastAt = now;
  }

  /** Step back: give the current state, receive the one to show, or null when there is nothing to undo. */
  undo(current: T): T | null {
    const previous = this.#past.pop();
    if (previous === undefined) return null;
    this.#future.push(current);
    this.#lastKey = null;
    return previous;
  }

  /** Step forward again after an undo; null when there is nothing to redo. */
  redo(current: T): T | null {
    const next = this.#future.pop();
    if (next === undefined) return null;
    this.#past.push(current);
    this.#lastKey = null;
    return next;
  }

  /** Forget everything (a new or opened project starts a fresh history). */
  clear(): void {
    this.#past = [];
    this.#future = [];
    this.#lastKey = null;
  }

  get canUndo(): boolean {
    return this.#past.length > 0;
  }

  get canRedo(): boolean {
    return this.#future.length > 0;
  }

  /** Number of undo steps held. */
  get depth(): number {
    return this.#past.length;
  }
}
