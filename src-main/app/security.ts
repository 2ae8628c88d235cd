/**
 * The window's security settings in one place: CSP, which URLs count as the app itself, and what happens to
 * every other navigation or window (denied; http(s) links open in the system browser).
 */
import { shell, type Session, type WebContents } from 'electron';

/**
 * The packaged renderer's policy: its own scripts only, no remote anything, no plugins, no framing.
 * Styles allow inline because Svelte and chart.js set style attributes.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** The dev server (electron-vite dev) needs its HMR socket and inline module preambles. */
export function devContentSecurityPolicy(devUrl: string): string {
  const origin = new URL(devUrl).origin;
  const ws = origin.replace(/^http/, 'ws');
  return `default-src 'self' ${origin}; script-src 'self' ${origin} 'unsafe-inline'; style-src 'self' ${origin} 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ${origin} ${ws}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`;
}

/** Opens a link in the system browser — http(s) only, never file:, javascript: or custom schemes. */
export function openExternalSafely(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') void shell.openExternal(parsed.toString());
}

/** Sets the CSP header on every response of the session (the dev server's, and any file the app fetches). */
export function enforceCsp(session: Session, policy: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
  // No camera, microphone, notifications, geolocation…: the workbench asks for none.
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Denies new windows and foreign navigations; external http(s) links go to the system browser. */
export function lockDownContents(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(({ url }) => {
    openExternalSafely(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    openExternalSafely(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
