/**
 * The contract (`WorkbenchApi`) over a WebSocket, for browser mode: one request id and one promise per
 * call, pushed events dispatched to listeners, and reconnection with backoff when the socket drops.
 * Independent of the DOM so Node tests can drive it with the `ws` package against the real server.
 */
import { API_EVENTS, API_METHODS, type EventChannel, type ServiceName } from '$shared/channels';
import type { WireError, WorkbenchApi } from '$shared/contract';

/** The part of the browser `WebSocket` this client uses (the `ws` package's client has it too). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface SocketApiOptions {
  /** `ws://host:port/ws?token=…` */
  url: string;
  /** Opens a socket (the browser's `WebSocket`, or `ws` in Node). */
  createSocket: (url: string) => SocketLike;
  /** First reconnect delay (ms); doubles up to `maxReconnectDelayMs`. Default 250. */
  reconnectDelayMs?: number;
  /** Default 5000. */
  maxReconnectDelayMs?: number;
}

/** A `WorkbenchApi` over a socket, plus connection control. */
export type SocketApi = WorkbenchApi & {
  /** Closes the socket for good (no reconnect); pending calls reject. */
  close(): void;
  /** Resolves once connected (calls made before that are queued, so awaiting this is optional). */
  ready(): Promise<void>;
  /** Tells when the socket opens or drops (e.g. to show "reconnecting…"); returns the unsubscribe. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
};

const OPEN = 1;

/** Rebuilds an Error from what crossed the wire, keeping its name (e.g. `ValidationError`). */
export function fromWireError(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Creates the client. It connects at once and keeps reconnecting until `close()`. */
export function createSocketApi(opts: SocketApiOptions): SocketApi {
  const baseDelay = opts.reconnectDelayMs ?? 250;
  const maxDelay = opts.maxReconnectDelayMs ?? 5_000;
  let socket: SocketLike | null = null;
  let closed = false;
  let delay = baseDelay;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  /** Requests made while disconnected: sent on (re)connect. */
  const queue: { id: number; text: string }[] = [];
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  const readyWaiters: (() => void)[] = [];
  const connectionListeners = new Set<(connected: boolean) => void>();
  const announce = (connected: boolean): void => {
    for (const l of connectionListeners) l(connected);
  };
  let timer: ReturnType<typeof setTimeout> | null = null;

  function connect(): void {
    if (closed) return;
    const ws = opts.createSocket(opts.url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      delay = baseDelay;
      for (const q of queue.splice(0)) ws.send(q.text);
      for (const w of readyWaiters.splice(0)) w();
      announce(true);
    };
    ws.onmessage = (ev) => onMessage(String(ev.data));
    ws.onerror = () => {
      /* onclose follows and handles it */
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      // Calls already sent may or may not have run (a start cannot be blindly repeated): fail them.
      for (const [id, p] of pending) {
        if (!queue.some((q) => q.id === id)) {
          pending.delete(id);
          p.reject(fromWireError({ name: 'ConnectionLost', message: 'the connection to the workbench server was lost before it answered' }));
        }
      }
      if (opened) announce(false); // a failed reconnect attempt is not news
      if (closed) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
    };
  }

  function onMessage(text: string): void {
    let msg: { id?: number | null; ok?: boolean; result?: unknown; error?: WireError; event?: EventChannel; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.event !== undefined) {
      for (const l of listeners.get(msg.event) ?? []) {
        try {
          l(msg.payload);
        } catch (err) {
          console.error(`workbench: a ${msg.event} listener threw`, err);
        }
      }
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(fromWireError(msg.error ?? { name: 'Error', message: 'the server answered with an error and no message' }));
  }

  function call(method: string, args: unknown[]): Promise<unknown> {
    if (closed) return Promise.reject(fromWireError({ name: 'ConnectionClosed', message: 'the workbench client was closed' }));
    // JSON would turn a trailing `undefined` (an omitted optional argument) into null: drop it instead.
    const trimmed = [...args];
    while (trimmed.length && trimmed[trimmed.length - 1] === undefined) trimmed.pop();
    const id = nextId++;
    const text = JSON.stringify({ id, method, args: trimmed });
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (socket && socket.readyState === OPEN) socket.send(text);
      else queue.push({ id, text });
    });
  }

  function subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  const services: Record<string, Record<string, unknown>> = {};
  for (const service of Object.keys(API_METHODS) as ServiceName[]) {
    services[service] = {};
    for (const method of API_METHODS[service]) {
      services[service][method] = (...args: unknown[]) => call(`${service}.${method}`, args);
    }
  }
  for (const [channel, { service, method }] of Object.entries(API_EVENTS) as [EventChannel, { service: string; method: string }][]) {
    services[service] ??= {};
    services[service][method] = (listener: (payload: unknown) => void) => subscribe(channel, listener);
  }

  connect();

  return {
    ...(services as unknown as Omit<WorkbenchApi, 'kind'>),
    kind: 'browser',
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(fromWireError({ name: 'ConnectionClosed', message: 'the workbench client was closed' }));
      }
    },
    ready() {
      if (socket && socket.readyState === OPEN) return Promise.resolve();
      return new Promise<void>((resolve) => readyWaiters.push(resolve));
    },
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => void connectionListeners.delete(listener);
    },
  };
}
