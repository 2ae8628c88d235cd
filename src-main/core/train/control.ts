/**
 * Cooperative control of a running training: the loop checks it between batches, so stop takes effect
 * after the current batch and pause holds the loop between two batches.
 */
export type TrainState = 'running' | 'paused' | 'stopping';

/** Stop / pause / resume for `runTraining`. Safe to call from any callback, in any order, any number of times. */
export class TrainControl {
  private current: TrainState = 'running';
  private waiters: (() => void)[] = [];

  /** 'running', 'paused' (held between batches) or 'stopping' (will stop after the current batch). */
  get state(): TrainState {
    return this.current;
  }

  /** Stops after the current batch; best weights are still restored, the model evaluated and saved ('stopped'). */
  stop(): void {
    this.current = 'stopping';
    this.wake();
  }

  /** Holds training after the current batch until `resume()` or `stop()`. */
  pause(): void {
    if (this.current === 'running') this.current = 'paused';
  }

  resume(): void {
    if (this.current === 'paused') {
      this.current = 'running';
      this.wake();
    }
  }

  /** Resolves once the state is no longer 'paused'. */
  async waitWhilePaused(): Promise<void> {
    while (this.current === 'paused') await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
