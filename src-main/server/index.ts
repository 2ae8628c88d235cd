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
import type { WireError } from '../shared/contract';
import type { Services } from '../services/index';
import { toWireError } from '../services/router';
import { MAX_JSON_DEPTH, showJson } from '../core/json-limits';

/** Largest WebSocket message (bytes): room for a few 10 MB images to predict, not for a flood. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * What one socket may cost the server. A client can pipeline requests without reading the replies; without
 * these, 60 pipelined 10,000-image requests held every reply in memory at once and killed the process.
 */
export interface ConnectionLimits {
  /** Requests of one connection run at once; later ones wait in its queue. */
  maxInFlight: number;
  /** Requests received but not started; beyond this the socket stops being read (TCP pushes back on the client). */
  maxQueued: number;
  /** Bytes waiting to go out to the client above which no further request of it starts until they drain. */
  sendHighWater: number;
  /** Bytes waiting to go out above which the client is dropped (it reads nothing: a reconnect starts clean). */
  sendHardLimit: number;
  /** Largest reply (characters of JSON); a larger one is answered with a ReplyTooLarge error instead. */
  maxReplyBytes: number;
  /** Values (array items, object members, scalars) one message may hold, counted before it is parsed. */
  maxJsonValues: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxInFlight: 4,
  maxQueued: 32,
  sendHighWater: 8 * 1024 * 1024,
  sendHardLimit: 256 * 1024 * 1024,
  maxReplyBytes: 48 * 1024 * 1024,
  // A 1,000-layer spec is ~20,000 values and 10,000 indices 10,000; a 60 MB array of numbers is 30 M.
  maxJsonValues: 500_000,
};

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
  /** Per-connection limits (tests narrow them); default DEFAULT_LIMITS. */
  limits?: Partial<ConnectionLimits>;
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

/** Wire format: server → client, for one request (`id` null when the request had none). */
type Reply = { id: number | null; ok: true; result: unknown } | { id: number | null; ok: false; error: WireError };

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

/**
 * Why JSON text is refused before it is parsed, or null: nesting deeper than `maxDepth`, or more than
 * `maxValues` values. Counted on the bytes (strings skipped), so a 60 MB message of nested arrays costs one
 * pass instead of seconds of parsing and gigabytes of tiny arrays that stall every client.
 */
export function jsonTextProblem(bytes: Uint8Array, maxDepth: number, maxValues: number): string | null {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next byte (a quote among them)
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `the message nests arrays or objects more than ${maxDepth} levels deep; no request of the contract needs that`;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c && ++values > maxValues) {
      return `the message holds more than ${maxValues.toLocaleString('en-US')} values; no request of the contract needs that many`;
    }
  }
  return null;
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

  function refuse(res: http.ServerResponse, status: 400 | 401 | 403 | 404 | 405 | 500 | 503, message: string): void {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { ...securityHeaders(port), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(message + '\n');
  }

  /**
   * The cookie stands in for the token only for the page's own files, fetched by the page itself or typed by
   * the user: `Sec-Fetch-Site` is sent by every current browser, and a page on another port of 127.0.0.1 is
   * "same-site", not "same-origin" — so `<img src="http://127.0.0.1:PORT/…">` there no longer rides on it.
   */
  function cookieAllowed(req: http.IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }

  /** A static file to send, or why not (the status to answer with). */
  async function staticFile(url: URL): Promise<{ file: string; size: number } | { status: 400 | 404; message: string }> {
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return { status: 400, message: '400 Bad Request: the path is not valid percent-encoded UTF-8' };
    }
    // fs throws synchronously on a NUL byte; a path with control characters names no file of ours anyway.
    if (/[\u0000-\u001f\u007f]/.test(rel) || rel.includes('\uFFFD')) {
      return { status: 400, message: '400 Bad Request: the path holds a NUL, control or invalid character' };
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(staticDir, '.' + path.posix.normalize(rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return { status: 404, message: '404 Not Found' };
    try {
      // Symlinks inside the renderer folder must not lead out of it.
      const real = await fs.promises.realpath(file);
      const realRoot = await fs.promises.realpath(staticDir);
      if (!real.startsWith(realRoot + path.sep)) return { status: 404, message: '404 Not Found' };
      const st = await fs.promises.stat(real);
      if (!st.isFile()) return { status: 404, message: '404 Not Found' };
      return { file: real, size: st.size };
    } catch {
      return { status: 404, message: '404 Not Found' };
    }
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://placeholder');
    } catch {
      return refuse(res, 400, '400 Bad Request: the request target is not a valid URL path');
    }
    const bad = originProblem(req);
    if (bad) return refuse(res, 403, `403 Forbidden: ${bad}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, '405 Method Not Allowed: browser mode serves files only; the API is the WebSocket');
    const byUrl = url.searchParams.has('token');
    if (!hasToken(req, url, cookieAllowed(req))) {
      return refuse(res, 401, '401 Unauthorized: open the URL printed by `cnn-workbench serve` (it carries ?token=…)');
    }
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      return refuse(res, 503, `503: the renderer is not built (${staticDir}/index.html is missing) — run \`npm run build\` first, then reload`);
    }
    const found = await staticFile(url);
    if ('status' in found) {
      if (url.pathname === '/favicon.ico' && found.status === 404) {
        // Browsers ask for it unprompted; "no icon" is not an error worth a console line.
        res.writeHead(204, securityHeaders(port));
        return void res.end();
      }
      // By cookie, only the page's own files answer: anything else looks like no access at all, not a probe result.
      if (!byUrl && found.status === 404) return refuse(res, 401, '401 Unauthorized');
      return refuse(res, found.status, found.message);
    }
    const headers: Record<string, string> = {
      ...securityHeaders(port),
      'Content-Type': MIME[path.extname(found.file)] ?? 'application/octet-stream',
      'Content-Length': String(found.size),
    };
    if (path.basename(found.file) === 'index.html' && byUrl) {
      // The page's own assets then load with the cookie, without the token in every URL.
      headers['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      return void res.end();
    }
    const stream = fs.createReadStream(found.file);
    stream.on('error', () => {
      // Gone between stat and read, or unreadable: a clean error if nothing was sent yet, else cut the reply.
      if (res.headersSent) res.destroy();
      else refuse(res, 404, '404 Not Found');
    });
    stream.once('open', () => {
      res.writeHead(200, headers);
      stream.pipe(res);
    });
  }

  const server = http.createServer((req, res) => {
    // Whatever a request does, it is answered and the server lives on: nothing here may throw past this point.
    handleHttp(req, res).catch((err: unknown) => {
      process.stderr.write(`serve: ${req.method ?? '?'} ${JSON.stringify(req.url ?? '').slice(0, 200)} failed: ${toWireError(err).message}\n`);
      refuse(res, 500, '500 Internal Server Error');
    });
  });
  server.on('error', (err) => {
    // After listening (e.g. EMFILE on accept): said, not fatal — the open connections keep being served.
    if (port !== 0) process.stderr.write(`serve: ${toWireError(err).message}\n`);
  });
  server.on('clientError', (_err, socket: Duplex) => {
    // Malformed HTTP (bad header bytes, oversized headers): answered 400, never an 'error' that ends the process.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const limits: ConnectionLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    try {
      socket.on('error', () => socket.destroy());
      const url = new URL(req.url ?? '/', 'http://placeholder');
      if (url.pathname !== '/ws') return reject(404, 'Not Found');
      if (originProblem(req)) return reject(403, 'Forbidden');
      // The socket must name the token in its URL: a cookie alone would let a page on another port of
      // localhost (same site, different origin) ride on it.
      if (!hasToken(req, url, false)) return reject(401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch {
      reject(400, 'Bad Request');
    }
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    const conn = new Connection(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => conn.receive(data, isBinary));
  });

  /**
   * One socket's requests: at most `maxInFlight` run at once, none starts while the client has not read
   * `sendHighWater` bytes of earlier replies, and past `maxQueued` waiting requests the socket stops being
   * read — so a client that pipelines without reading slows only itself, and the memory it can pin is bounded.
   */
  class Connection {
    private readonly queue: { data: RawData; isBinary: boolean }[] = [];
    private active = 0;
    private paused = false;
    private retry: ReturnType<typeof setTimeout> | null = null;

    constructor(private readonly ws: WebSocket) {
      ws.on('close', () => {
        this.queue.length = 0;
        if (this.retry) clearTimeout(this.retry);
      });
    }

    receive(data: RawData, isBinary: boolean): void {
      this.queue.push({ data, isBinary });
      if (this.queue.length >= limits.maxQueued && !this.paused) {
        this.paused = true;
        this.ws.pause();
      }
      this.pump();
    }

    private pump(): void {
      if (this.retry) return;
      while (this.active < limits.maxInFlight && this.queue.length > 0 && this.ws.readyState === this.ws.OPEN) {
        if (this.ws.bufferedAmount > limits.sendHighWater) {
          // ws has no 'drain' event of its own: look again shortly.
          this.retry = setTimeout(() => {
            this.retry = null;
            this.pump();
          }, 10);
          return;
        }
        const next = this.queue.shift()!;
        this.active++;
        void handleMessage(this.ws, next.data, next.isBinary).finally(() => {
          this.active--;
          this.pump();
        });
      }
      if (this.paused && this.queue.length < limits.maxQueued / 2) {
        this.paused = false;
        this.ws.resume();
      }
    }
  }

  async function handleMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let msg: Partial<RequestMessage>;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol');
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const problem = jsonTextProblem(bytes, MAX_JSON_DEPTH + 2, limits.maxJsonValues);
      if (problem) throw new Error(problem);
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('a request must be a JSON object {id, method, args}');
      msg = parsed as Partial<RequestMessage>;
    } catch (err) {
      send(ws, { id: null, ok: false, error: { name: 'ProtocolError', message: toWireError(err).message } });
      return;
    }
    const id = typeof msg.id === 'number' && Number.isSafeInteger(msg.id) ? msg.id : null;
    if (id === null) {
      send(ws, { id: null, ok: false, error: { name: 'ProtocolError', message: `a request needs a numeric id (received ${showJson(msg.id ?? null, 40)})` } });
      return;
    }
    try {
      const result = await services.dispatch(msg.method, msg.args ?? []);
      send(ws, { id, ok: true, result: result ?? null }, `${typeof msg.method === 'string' ? msg.method : '?'}`);
    } catch (err) {
      send(ws, { id, ok: false, error: toWireError(err) });
    }
  }

  /** Sends one reply; one too large to send, or one that cannot be encoded, becomes an error reply for its id. */
  function send(ws: WebSocket, value: Reply, method = ''): void {
    if (ws.readyState !== ws.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      text = JSON.stringify({ id: value.id, ok: false, error: { name: 'ReplyError', message: `${method}: the reply could not be encoded: ${toWireError(err).message}` } });
    }
    if (text.length > limits.maxReplyBytes) {
      text = JSON.stringify({
        id: value.id,
        ok: false,
        error: { name: 'ReplyTooLarge', message: `${method}: the reply would be ${(text.length / 1e6).toFixed(1)} MB, over the ${(limits.maxReplyBytes / 1e6).toFixed(1)} MB a reply may be; ask for fewer items at once` },
      });
    }
    sendText(ws, text);
  }

  function sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + text.length > limits.sendHardLimit) {
      // A client that reads nothing would make the server hold everything for it: drop it (it may reconnect).
      ws.terminate();
      return;
    }
    ws.send(text);
  }

  const unsubscribe = services.events.onAny((channel: EventChannel, payload: unknown) => {
    let text: string;
    try {
      text = JSON.stringify({ event: channel, payload });
    } catch (err) {
      process.stderr.write(`serve: event ${channel} could not be encoded: ${toWireError(err).message}\n`);
      return;
    }
    for (const ws of sockets) {
      // Progress is a throttled snapshot: a client behind on reading skips some; epochs and endings always go.
      if (channel === 'training.onTrainingProgress' && ws.bufferedAmount > limits.sendHighWater) continue;
      sendText(ws, text);
    }
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
