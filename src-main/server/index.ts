/**
 * Browser mode: the same services as the desktop app, behind HTTP (the built renderer) and a WebSocket
 * (the contract), on the loopback interface — for headless boxes, and machines where Electron cannot
 * be installed.
 *
 * Security model (as Jupyter's): a random token per start, printed in the URL. Every request must carry it,
 * either as `?token=` or as the HttpOnly, SameSite=Strict cookie set on the first authorised page load;
 * every socket must carry it in its URL. A request whose Host is not this server (DNS rebinding) or whose
 * Origin is another site is refused with 403 before anything runs, so no other page can drive the services.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { EventChannel } from '../shared/channels';
import type { Services } from '../services/index';
import { toWireError } from '../services/router';

/** Largest WebSocket message (bytes): room for a few 10 MB images to predict, not for a flood. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  services: Services;
  /** 0 picks a free port. Default 8765. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The built renderer (index.html + assets). Default: out/renderer at the project root. */
  staticDir?: string;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  token: string;
  /** True when index.html was found in the static folder. */
  rendererBuilt: boolean;
  staticDir: string;
  close(): Promise<void>;
}

/** Wire format: client → server. */
interface RequestMessage {
  id: number;
  method: string;
  args: unknown[];
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

/** The project root, found from this file (src-main/server/ under tsx). */
export function projectRoot(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function securityHeaders(port: number): Record<string, string> {
  return {
    // The renderer needs only itself and its own socket; nothing may frame it; the URL's token never leaks.
    'Content-Security-Policy': `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

/** Starts browser mode. Resolves once listening; `url` carries the token. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? crypto.randomBytes(32).toString('hex');
  const staticDir = path.resolve(opts.staticDir ?? path.join(projectRoot(), 'out', 'renderer'));
  const { services } = opts;
  let port = 0;
  const cookieName = (): string => `cnnwb_token_${port}`;

  /** Hosts this server answers to: loopback names plus the host it was bound to. */
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const allowedHosts = (): Set<string> =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${shownHost.toLowerCase()}:${port}`]);

  /** 403 reasons: a Host that is not us (DNS rebinding) or an Origin of another site. */
  function originProblem(req: http.IncomingMessage): string | null {
    const hosts = allowedHosts();
    if (!req.headers.host || !hosts.has(req.headers.host.toLowerCase())) return `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`;
    const origin = req.headers.origin;
    // No Origin: a top-level navigation or a non-browser client, which the token still gates.
    if (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, '').toLowerCase())) return `Origin ${JSON.stringify(origin)} is not allowed`;
    if (origin !== undefined && !origin.startsWith('http://')) return `Origin ${JSON.stringify(origin)} is not allowed`;
    return null;
  }

  function hasToken(req: http.IncomingMessage, url: URL, allowCookie: boolean): boolean {
    const q = url.searchParams.get('token');
    if (q !== null) return tokensEqual(q, token);
    if (!allowCookie) return false;
    const c = parseCookies(req.headers.cookie).get(cookieName());
    return c !== undefined && tokensEqual(c, token);
  }

  function refuse(res: http.ServerResponse, status: 401 | 403 | 404 | 405 | 503, message: string): void {
    res.writeHead(status, { ...securityHeaders(port), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(message + '\n');
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const bad = originProblem(req);
    if (bad) return refuse(res, 403, `403 Forbidden: ${bad}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, '405 Method Not Allowed: browser mode serves files only; the API is the WebSocket');
    if (!hasToken(req, url, true)) {
      return refuse(res, 401, '401 Unauthorized: open the URL printed by `cnn-workbench serve` (it carries ?token=…)');
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return refuse(res, 404, '404 Not Found');
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(staticDir, '.' + path.posix.normalize(rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return refuse(res, 404, '404 Not Found');
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      return refuse(res, 503, `503: the renderer is not built (${staticDir}/index.html is missing) — run \`npm run build\` first, then reload`);
    }
    fs.stat(file, (err, st) => {
      if ((err || !st.isFile()) && rel === '/favicon.ico') {
        // Browsers ask for it unprompted; "no icon" is not an error worth a console line.
        res.writeHead(204, securityHeaders(port));
        return void res.end();
      }
      if (err || !st.isFile()) return refuse(res, 404, '404 Not Found');
      const headers: Record<string, string> = {
        ...securityHeaders(port),
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': String(st.size),
      };
      if (path.basename(file) === 'index.html' && url.searchParams.has('token')) {
        // The page's own assets then load with the cookie, without the token in every URL.
        headers['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(file).pipe(res);
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return reject(404, 'Not Found');
    if (originProblem(req)) return reject(403, 'Forbidden');
    // The socket must name the token in its URL: a cookie alone would let a page on another port of
    // localhost (same site, different origin) ride on it.
    if (!hasToken(req, url, false)) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void handleMessage(ws, data, isBinary);
    });
  });

  async function handleMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let msg: Partial<RequestMessage>;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol');
      const parsed: unknown = JSON.parse(data.toString());
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('a request must be a JSON object {id, method, args}');
      msg = parsed as Partial<RequestMessage>;
    } catch (err) {
      send(ws, { id: null, ok: false, error: { name: 'ProtocolError', message: toWireError(err).message } });
      return;
    }
    const id = typeof msg.id === 'number' && Number.isSafeInteger(msg.id) ? msg.id : null;
    if (id === null) {
      send(ws, { id: null, ok: false, error: { name: 'ProtocolError', message: `a request needs a numeric id (received ${JSON.stringify(msg.id ?? null)})` } });
      return;
    }
    try {
      const result = await services.dispatch(msg.method, msg.args ?? []);
      send(ws, { id, ok: true, result: result ?? null });
    } catch (err) {
      send(ws, { id, ok: false, error: toWireError(err) });
    }
  }

  function send(ws: WebSocket, value: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
  }

  const unsubscribe = services.events.onAny((channel: EventChannel, payload: unknown) => {
    const text = JSON.stringify({ event: channel, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8765, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    host,
    token,
    staticDir,
    rendererBuilt: fs.existsSync(path.join(staticDir, 'index.html')),
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
