/**
 * A tiny typed event hub: the services publish training and menu events once, and each transport (the
 * in-process API, Electron's webContents, every authorised WebSocket) subscribes to it.
 */
import type { EventChannel } from '../shared/channels';
import type { BatchProgress, EpochResult, ExportProgress, MenuCommand, TrainingFailed, TrainingFinished, Unsubscribe } from '../shared/contract';

/** The payload of each event channel. */
export interface EventPayloads {
  'training.onTrainingProgress': BatchProgress;
  'training.onEpochEnd': EpochResult;
  'training.onTrainingFinished': TrainingFinished;
  'training.onTrainingFailed': TrainingFailed;
  'exports.onExportProgress': ExportProgress;
  'app.onMenuCommand': MenuCommand;
}

type Listener<C extends EventChannel> = (payload: EventPayloads[C]) => void;

/** Publish/subscribe over the contract's event channels. A throwing listener cannot starve the others. */
export class EventHub {
  private readonly listeners = new Map<EventChannel, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<<C extends EventChannel>(channel: C, payload: EventPayloads[C]) => void>();

  /** Subscribes to one channel; returns the unsubscribe function. */
  on<C extends EventChannel>(channel: C, listener: Listener<C>): Unsubscribe {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  }

  /** Subscribes to every channel (transports forward them all). */
  onAny(listener: <C extends EventChannel>(channel: C, payload: EventPayloads[C]) => void): Unsubscribe {
    this.anyListeners.add(listener);
    return () => void this.anyListeners.delete(listener);
  }

  /** Delivers `payload` to the channel's listeners, then to the catch-all ones. */
  emit<C extends EventChannel>(channel: C, payload: EventPayloads[C]): void {
    for (const l of this.listeners.get(channel) ?? []) this.safely(() => (l as Listener<C>)(payload));
    for (const l of this.anyListeners) this.safely(() => l(channel, payload));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A broken subscriber (e.g. a destroyed window) must not stop training events reaching the others.
      process.emitWarning(`event listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
