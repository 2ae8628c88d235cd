/**
 * The preload: exposes exactly `WorkbenchApi` as `window.workbench`, built from the contract's channel list.
 * The renderer never sees `ipcRenderer` — only these functions, each bound to one channel. Runs sandboxed
 * (bundled to CommonJS), so it imports nothing but electron and the shared plain-data channel list.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_EVENTS, API_METHODS, ipcEventChannel, ipcInvokeChannel, type EventChannel, type MethodChannel, type ServiceName } from '../shared/channels';
import type { WireError, WorkbenchApi } from '../shared/contract';

/** What main's handlers return: Electron would flatten a thrown error's name into its message. */
type Reply = { ok: true; value: unknown } | { ok: false; error: WireError };

async function invoke(channel: MethodChannel, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(ipcInvokeChannel(channel), args)) as Reply;
  if (reply.ok) return reply.value;
  const err = new Error(reply.error.message);
  err.name = reply.error.name;
  throw err;
}

function subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
  const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
  ipcRenderer.on(ipcEventChannel(channel), handler);
  return () => void ipcRenderer.removeListener(ipcEventChannel(channel), handler);
}

const services: Record<string, Record<string, unknown>> = {};
for (const service of Object.keys(API_METHODS) as ServiceName[]) {
  services[service] = {};
  for (const method of API_METHODS[service]) {
    services[service][method] = (...args: unknown[]) => invoke(`${service}.${method}` as MethodChannel, args);
  }
}
for (const [channel, { service, method }] of Object.entries(API_EVENTS) as [EventChannel, { service: string; method: string }][]) {
  services[service] ??= {};
  services[service][method] = (listener: (payload: unknown) => void) => subscribe(channel, listener);
}

const api = { ...(services as unknown as Omit<WorkbenchApi, 'kind'>), kind: 'electron' } satisfies WorkbenchApi;
contextBridge.exposeInMainWorld('workbench', api);
