/**
 * `TerminateOnDivergence`: Keras' TerminateOnNaN, extended to the ways a run diverges without a NaN. tfjs clips
 * probabilities to [1e-7, 1 − 1e-7] inside the loss, so a model blown up by a huge learning rate often reports a
 * finite loss near −ln 1e-7 ≈ 16.1 and accuracy at chance for ever (`--lr 10` on the small CNN: loss ~14.5,
 * test accuracy 0.088, and the run ended 'completed'). The guard stops the run:
 *   - at once when a batch's loss or any weight is NaN / infinite (the epoch in progress is dropped);
 *   - after `patience` epochs in a row whose loss is at least `loss_ceiling_fraction` of the ceiling, or whose
 *     accuracy (validation when there is a validation set) is at most chance + `chance_margin`.
 * It keeps the best epoch's weights (by `monitor`: EarlyStopping's when there is one, so both agree) and puts
 * them back at the end of a diverged run, so what is evaluated and saved is the best model the run had.
 */
import type { DivergenceSpec, MonitorName } from '../../shared/spec';
import { finiteOrString, fromJsonNumber, type JsonValue } from '../runs/checkpoint';
import { BestWeights, Callback, type BatchLogs, type CallbackState, type EpochLogs } from './callbacks';

/** The largest loss tfjs' categorical cross-entropy can report per image (probabilities clipped at 1e-7). */
export const LOSS_CEILING = -Math.log(1e-7);

export class TerminateOnDivergence extends Callback {
  /** Why the run diverged; null while it has not. */
  reason: string | null = null;
  /** 0-based epoch of the best monitored value; -1 before any. */
  bestEpoch = -1;
  best: number;
  /** Epochs in a row at the ceiling or at chance. */
  strikes = 0;
  private readonly bestWeights = new BestWeights();
  private epoch = 0;

  constructor(
    /** null: only NaN / Inf stop the run. */
    private readonly spec: DivergenceSpec | null,
    readonly monitor: MonitorName,
    private readonly mode: 'min' | 'max',
    /** Accuracy of always answering the most frequent class. */
    private readonly chance: number,
    /** The run's learning rate as configured, for the message ("try a lower learning rate (it was …)"). */
    private readonly learningRate: number,
  ) {
    super();
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  /** The best monitored value, or null before any epoch had it. */
  get bestValue(): number | null {
    return this.bestEpoch >= 0 ? this.best : null;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onBatchEnd(batch: number, logs: BatchLogs): Promise<void> {
    const loss = logs.batchLoss ?? logs.loss;
    const where = `at epoch ${this.epoch + 1}, batch ${batch + 1}`;
    if (!Number.isFinite(loss)) this.diverge(`the loss became ${Number.isNaN(loss) ? 'NaN' : loss} ${where}`);
    else if (logs.weightsFinite === false) this.diverge(`the weights became NaN or infinite ${where} (loss ${loss.toFixed(4)})`);
  }

  override async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    const current = logs[this.monitor];
    if (current !== undefined && Number.isFinite(current) && (this.mode === 'min' ? current < this.best : current > this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      this.bestWeights.take(this.trainer);
    }
    if (!this.spec) return;
    const loss = logs.loss ?? NaN;
    const accName = logs.val_accuracy !== undefined ? 'val_accuracy' : 'accuracy';
    const acc = logs[accName] ?? NaN;
    const ceiling = this.spec.loss_ceiling_fraction * LOSS_CEILING;
    const stuck = loss >= ceiling;
    const atChance = acc <= this.chance + this.spec.chance_margin;
    this.strikes = stuck || atChance ? this.strikes + 1 : 0;
    if (this.strikes >= this.spec.patience) {
      const why = stuck
        ? `the loss stayed at or above ${ceiling.toFixed(2)} (${this.spec.loss_ceiling_fraction} of its ceiling ${LOSS_CEILING.toFixed(2)}) for ${this.strikes} epoch(s), ${loss.toFixed(4)} at epoch ${epoch + 1}`
        : `${accName} stayed at chance (≤ ${(this.chance + this.spec.chance_margin).toFixed(4)}: the largest class' share ${this.chance.toFixed(4)} + ${this.spec.chance_margin}) for ${this.strikes} epoch(s), ${acc.toFixed(4)} at epoch ${epoch + 1}`;
      this.diverge(why);
    }
  }

  private diverge(why: string): void {
    if (this.reason !== null) return;
    const kept = this.bestValue !== null ? `; kept the weights of epoch ${this.bestEpoch + 1} (best ${this.monitor} ${this.best.toFixed(4)})` : '';
    this.reason = `the training diverged: ${why}; try a lower learning rate (it was ${this.learningRate})${kept}`;
    this.trainer.stopTraining = true;
    this.trainer.log(`Stopped: ${this.reason}.`);
  }

  override async onTrainEnd(): Promise<void> {
    // Silently: the "Stopped: …" line already says which epoch's weights are kept (EarlyStopping, when there is
    // one, has just logged restoring the same epoch).
    if (this.reason !== null) this.bestWeights.restore(this.trainer);
    this.bestWeights.dispose();
  }

  override dispose(): void {
    this.bestWeights.dispose();
  }

  override getState(): CallbackState {
    return {
      json: { bestEpoch: this.bestEpoch, best: finiteOrString(this.best), strikes: this.strikes },
      weights: this.bestWeights.copy(),
    };
  }

  override setState(state: CallbackState): void {
    const j = (state.json ?? {}) as Record<string, JsonValue>;
    this.bestEpoch = fromJsonNumber(j.bestEpoch);
    this.best = fromJsonNumber(j.best);
    this.strikes = fromJsonNumber(j.strikes);
    this.bestWeights.load(state.weights);
  }
}
