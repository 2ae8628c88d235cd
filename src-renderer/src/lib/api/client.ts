/**
 * The renderer's one way to reach the services: `getApi()` returns the Electron preload's bridge when it
 * exists, else a WebSocket client to the browser-mode server that served this page — the same typed
 * `WorkbenchApi` either way, so no component knows which it talks to.
 */
import type { WorkbenchApi } from '$shared/contract';
import { createSocketApi, type SocketLike } from './socket-client';

const TOKEN_KEY = 'cnn-workbench-token';
let cached: WorkbenchApi | null = null;

/**
 * Browser mode's token: taken from `?token=` on first load, kept in sessionStorage (this tab only), and
 * removed from the address bar so it is not copied, bookmarked or shown on screen.
 */
function takeToken(): string {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** The contract, via Electron IPC (preload) or via the browser-mode WebSocket. One instance per page. */
export function getApi(): WorkbenchApi {
  if (cached) return cached;
  if (typeof window !== 'undefined' && window.workbench) {
    cached = window.workbench;
    return cached;
  }
  const token = takeToken();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  cached = createSocketApi({
    url: `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  });
  return cached;
}
