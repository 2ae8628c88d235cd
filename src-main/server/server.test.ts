/**
 * Browser mode over a real socket: the contract suite through the renderer's own WebSocket client, the
 * token/origin guards, malformed payloads, and a killed training worker — the server must keep serving.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
// The test drives the renderer's real client (not a copy) against the real server.
// eslint-disable-next-line no-restricted-imports
import { createSocketApi, type SocketApi, type SocketLike } from '../../src-renderer/src/lib/api/socket-client';
import { createServices, type Services } from '../services/index';
import { EventLog, contractSuite, readExample, shortRun } from '../services/contract-suite';
import { startServer, type RunningServer } from './index';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-server-'));
process.env.CNN_WORKBENCH_HOME = home;
after(() => fs.rmSync(home, { recursive: true, force: true }));

/** A static folder standing in for out/renderer (the real one may not be built when unit tests run). */
function staticFixture(): string {
  const dir = fs.mkdtempSync(path.join(home, 'static-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>CNN Workbench</title>');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  return dir;
}

async function start(name: string): Promise<{ services: Services; server: RunningServer }> {
  const services = createServices({ kind: 'browser', runsDir: path.join(home, name) });
  const server = await startServer({ services, port: 0, staticDir: staticFixture() });
  return { services, server };
}

function client(server: RunningServer): SocketApi {
  return createSocketApi({
    url: `ws://127.0.0.1:${server.port}/ws?token=${server.token}`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  });
}

/** A plain HTTP GET with chosen headers; resolves status, headers and body. */
function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/** Opens a raw socket; resolves 'open' or the HTTP status of the refusal. */
function tryConnect(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

/** Sends one raw text frame and resolves the first reply. */
function rawExchange(server: RunningServer, text: string): Promise<{ id: number | null; ok: boolean; error?: { name: string; message: string }; result?: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data: WebSocket.RawData) => {
      const msg: unknown = JSON.parse(data.toString());
      if (msg && typeof msg === 'object' && 'event' in msg) return;
      ws.close();
      resolve(msg as { id: number | null; ok: boolean; error?: { name: string; message: string } });
    });
    ws.on('error', reject);
  });
}

/** Sends one raw text frame and resolves the text of the first reply (not an event). */
function rawText(server: RunningServer, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data: WebSocket.RawData) => {
      const reply = data.toString();
      if (reply.startsWith('{"event"')) return;
      ws.close();
      resolve(reply);
    });
    ws.on('error', reject);
  });
}

contractSuite('browser mode over a WebSocket', async () => {
  const { services, server } = await start('runs-contract');
  const api = client(server);
  await api.ready();
  return {
    api,
    close: async () => {
      api.close();
      await server.close();
      await services.dispose();
    },
  };
});

describe('browser mode security', () => {
  let services: Services;
  let server: RunningServer;
  before(async () => ({ services, server } = await start('runs-security')));
  after(async () => {
    await server.close();
    await services.dispose();
  });

  it('prints a loopback URL with a long random token, new at every start', async () => {
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{64}$`));
    const other = await startServer({ services, port: 0, staticDir: staticFixture() });
    try {
      assert.notEqual(other.token, server.token);
    } finally {
      await other.close();
    }
  });

  it('refuses pages and sockets without the token (401), and with a wrong one', async () => {
    assert.equal((await get(server.port, '/')).status, 401);
    assert.equal((await get(server.port, '/assets/app.js')).status, 401);
    assert.equal((await get(server.port, '/?token=wrong')).status, 401);
    assert.equal(await tryConnect(`ws://127.0.0.1:${server.port}/ws`), 401);
    assert.equal(await tryConnect(`ws://127.0.0.1:${server.port}/ws?token=${'0'.repeat(64)}`), 401);
  });

  it('serves the page with the token, then its assets by cookie, with a strict CSP', async () => {
    const page = await get(server.port, `/?token=${server.token}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /CNN Workbench/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const cookie = String(page.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    assert.match(String(page.headers['set-cookie']?.[0]), /HttpOnly; SameSite=Strict/);
    const asset = await get(server.port, '/assets/app.js', { cookie });
    assert.equal(asset.status, 200);
    // A cookie alone does not open the API socket: that needs the token in the URL.
    assert.equal(await tryConnect(`ws://127.0.0.1:${server.port}/ws`, { cookie }), 401);
    assert.equal((await get(server.port, `/../../../etc/passwd?token=${server.token}`)).status, 404);
    assert.equal((await get(server.port, `/%2e%2e/%2e%2e/etc/passwd?token=${server.token}`)).status, 404);
  });

  it('refuses a foreign Origin or Host (403), even with the token', async () => {
    const withToken = `ws://127.0.0.1:${server.port}/ws?token=${server.token}`;
    assert.equal(await tryConnect(withToken, { Origin: 'http://evil.example' }), 403);
    assert.equal(await tryConnect(withToken, { Origin: `http://127.0.0.1:${server.port + 1}` }), 403);
    assert.equal(await tryConnect(withToken, { Origin: `http://127.0.0.1:${server.port}` }), 'open');
    assert.equal((await get(server.port, `/?token=${server.token}`, { Origin: 'http://evil.example' })).status, 403);
    // DNS rebinding: a foreign name that resolves to 127.0.0.1.
    assert.equal((await get(server.port, `/?token=${server.token}`, { Host: `evil.example:${server.port}` })).status, 403);
  });

  it('answers malformed requests with {name, message} and keeps serving', async () => {
    const bad: [string, RegExp][] = [
      ['not json', /ProtocolError/],
      ['[1,2,3]', /ProtocolError/],
      [JSON.stringify({ method: 'runs.listRuns', args: [] }), /ProtocolError/],
      [JSON.stringify({ id: 1, method: 'system.exec', args: ['rm -rf /'] }), /unknown method/],
      [JSON.stringify({ id: 2, method: 'constructor', args: [] }), /unknown method/],
      [JSON.stringify({ id: 3, method: 'model.summarize', args: [42] }), /argument 'spec'/],
      [JSON.stringify({ id: 4, method: 'model.summarize', args: [{ format_version: 1, class_name: 'Sequential', config: { name: 'x', layers: 'many' } }] }), /field config\.layers/],
      [JSON.stringify({ id: 5, method: 'datasets.getTestImages', args: ['fashion-mnist', Array.from({ length: 20_000 }, () => 0)] }), /an array of 20000 items/],
      [JSON.stringify({ id: 6, method: 'exports.exportModel', args: ['../../etc', 'tfjs'] }), /argument 'runId'/],
      [JSON.stringify({ id: 7, method: 'datasets.importDataset', args: ['/etc/passwd'] }), /outside the allowed folders/],
      [JSON.stringify({ id: 8, method: 'datasets.importDataset', args: ['/usr/share/datasets/../../../etc'] }), /outside the allowed folders/],
      [JSON.stringify({ id: 9, method: 'exports.predict', args: ['run', [{ name: 'x.png', base64: 'A'.repeat(14_000_001) }]] }), /at most 10 MB/],
      [JSON.stringify({ id: 10, method: 'runs.getRun', args: [] }), /argument 'runId' is missing/],
    ];
    for (const [text, expected] of bad) {
      const reply = await rawExchange(server, text);
      assert.equal(reply.ok, false, text.slice(0, 80));
      assert.equal(typeof reply.error?.name, 'string');
      assert.match(`${reply.error?.name}: ${reply.error?.message}`, expected);
      assert.doesNotMatch(reply.error?.message ?? '', /\n\s+at /, 'no stack traces cross the wire');
    }
    // Still serving, over HTTP and over the socket.
    assert.equal((await get(server.port, `/?token=${server.token}`)).status, 200);
    const ok = await rawExchange(server, JSON.stringify({ id: 99, method: 'model.summarize', args: [readExample('small-cnn')] }));
    assert.equal(ok.ok, true);
  });

  it('answers a NUL byte or a bad encoding in the path with 400 and keeps serving (it used to kill the process)', async () => {
    const t = `?token=${server.token}`;
    for (const bad of ['/x%00', '/assets/app.js%00.png', '/%00', '/%ff', '/%e0%80', '/%', '/a%0ab']) {
      const reply = await get(server.port, bad + t);
      assert.equal(reply.status, 400, bad);
      assert.match(reply.body, /400 Bad Request/);
    }
    assert.equal((await get(server.port, `/${t}`)).status, 200);
    assert.equal((await get(server.port, `/assets/app.js${t}`)).status, 200);
  });

  it("admits the cookie only for the page's own files, and not from another site (Sec-Fetch-Site)", async () => {
    const page = await get(server.port, `/?token=${server.token}`);
    const cookie = String(page.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    // The page's own fetches and a reload (typed by the user) ride on the cookie.
    assert.equal((await get(server.port, '/assets/app.js', { cookie, 'Sec-Fetch-Site': 'same-origin' })).status, 200);
    assert.equal((await get(server.port, '/', { cookie, 'Sec-Fetch-Site': 'none' })).status, 200);
    // A page on another port of 127.0.0.1 is same-site: `<img src="http://127.0.0.1:PORT/x%00">` gets nothing.
    for (const site of ['same-site', 'cross-site']) {
      assert.equal((await get(server.port, '/assets/app.js', { cookie, 'Sec-Fetch-Site': site })).status, 401, site);
      assert.equal((await get(server.port, '/x%00', { cookie, 'Sec-Fetch-Site': site })).status, 401, site);
    }
    // By cookie, anything that is not one of the page's files answers like no access at all.
    assert.equal((await get(server.port, '/no-such-file.js', { cookie })).status, 401);
    assert.equal((await get(server.port, `/no-such-file.js?token=${server.token}`)).status, 404);
  });

  it('refuses a message nested 5,000 deep or holding millions of values before parsing it, and keeps serving', async () => {
    const deep = `{"id":1,"method":"model.summarize","args":[${'['.repeat(5000)}1${']'.repeat(5000)}]}`;
    const reply = await rawExchange(server, deep);
    assert.equal(reply.ok, false);
    assert.equal(reply.error?.name, 'ProtocolError');
    assert.match(reply.error?.message ?? '', /nests arrays or objects more than \d+ levels deep/);
    const many = `{"id":2,"method":"model.summarize","args":[[${'0,'.repeat(2_000_000)}0]]}`;
    const big = await rawExchange(server, many);
    assert.match(big.error?.message ?? '', /more than 500,000 values/);
    assert.equal((await rawExchange(server, JSON.stringify({ id: 4, method: 'model.listTemplates', args: [] }))).ok, true);
  });

  it("echoes at most a short piece of an unknown field's value (a 60 MB string used to come back twice)", async () => {
    const spec = readExample('small-cnn');
    const huge = 'x'.repeat(4_000_000);
    (spec.config.layers[1]!.config as Record<string, unknown>).typo_field = huge;
    const text = await rawText(server, JSON.stringify({ id: 1, method: 'model.summarize', args: [{ ...spec, also_unknown: huge }] }));
    assert.ok(text.length < 20_000, `reply of ${text.length} characters`);
    const reply = JSON.parse(text) as { ok: boolean; result: { issues: { severity: string; message: string; received: string | null }[] } };
    assert.equal(reply.ok, true);
    const warnings = reply.result.issues.filter((i) => i.severity === 'warning' && /typo_field|also_unknown/.test(i.message));
    assert.equal(warnings.length, 2, JSON.stringify(reply.result.issues).slice(0, 500));
    for (const w of warnings) assert.match(w.received ?? '', /^"x{10,}"… \(a string of 4000000 characters\)$/);
    assert.ok(warnings.some((w) => /typo_field = "x+"… \(a string of 4000000 characters\)/.test(w.message)));
  });

  it("refuses export names that walk out of the run's exports folder", async () => {
    const api = client(server);
    try {
      for (const name of ['../escape', '..', 'a/b', '/tmp/x', '.hidden', 'a\\..\\b', 'x'.repeat(65)]) {
        await assert.rejects(api.exports.exportModel('any-run', 'tfjs', name), (err: Error) => {
          assert.equal(err.name, 'ValidationError');
          assert.match(err.message, /plain folder name/);
          return true;
        });
      }
    } finally {
      api.close();
    }
  });
});

describe('browser mode: per-connection limits', () => {
  it('answers a reply over the size limit with ReplyTooLarge for its id, and the connection carries on', async () => {
    const services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs-limits') });
    // 1,000 Fashion-MNIST images are ~1.1 MB of reply: over a limit of 500 KB, under the default.
    const server = await startServer({ services, port: 0, staticDir: staticFixture(), limits: { maxReplyBytes: 500_000 } });
    try {
      const indices = Array.from({ length: 1000 }, (_, i) => i);
      const big = await rawExchange(server, JSON.stringify({ id: 7, method: 'datasets.getTestImages', args: ['fashion-mnist', indices] }));
      assert.equal(big.id, 7);
      assert.equal(big.ok, false);
      assert.equal(big.error?.name, 'ReplyTooLarge');
      assert.match(big.error?.message ?? '', /^datasets\.getTestImages: the reply would be 1\.\d MB, over the 0\.5 MB a reply may be; ask for fewer items at once$/);
      const small = await rawExchange(server, JSON.stringify({ id: 8, method: 'datasets.getTestImages', args: ['fashion-mnist', indices.slice(0, 10)] }));
      assert.equal(small.ok, true);
      assert.equal((small.result as unknown[]).length, 10);
    } finally {
      await server.close();
      await services.dispose();
    }
  });
});

describe('browser mode: backpressure', () => {
  it('starts no further request of a client that does not read its replies, then serves the rest once it reads', async (t) => {
    const real = createServices({ kind: 'browser', runsDir: path.join(home, 'runs-backpressure') });
    let started = 0;
    // The real services, counted: how many requests the server began for the client.
    const services: Services = { ...real, dispatch: (channel, args) => (started++, real.dispatch(channel, args)) };
    const server = await startServer({ services, port: 0, staticDir: staticFixture(), limits: { maxInFlight: 1, sendHighWater: 1024 * 1024 } });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, { maxPayload: 64 * 1024 * 1024 });
    try {
      await new Promise((resolve) => ws.once('open', resolve));
      let answered = 0;
      ws.on('message', () => answered++);
      ws.pause(); // reads nothing: replies stay with the server (and the kernel's socket buffers)
      const indices = Array.from({ length: 5000 }, (_, i) => i); // ~5.6 MB of reply each
      for (let id = 1; id <= 10; id++) ws.send(JSON.stringify({ id, method: 'datasets.getTestImages', args: ['fashion-mnist', indices] }));
      // Let the server do all it will do; slowness can only lower the count.
      let seen = -1;
      while (seen !== started) {
        seen = started;
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      t.diagnostic(`${started} of 10 requests started while the client read nothing`);
      assert.ok(started >= 1 && started <= 4, `${started} of 10 requests started while the client read nothing`);
      ws.resume();
      while (answered < 10) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(started, 10);
    } finally {
      ws.close();
      await server.close();
      await real.dispose();
    }
  });
});

describe('browser mode: a training worker that dies', () => {
  let services: Services;
  let server: RunningServer;
  before(async () => ({ services, server } = await start('runs-crash')));
  after(async () => {
    await server.close();
    await services.dispose();
  });

  it('marks the run failed with the reason, keeps its saved epochs, and the server keeps serving', async () => {
    const api = client(server);
    const log = new EventLog(api);
    try {
      const { runId } = await api.training.startTraining({
        spec: readExample('small-cnn'),
        hyperparameters: shortRun(20, 64),
        datasetId: 'fashion-mnist',
        limitTrain: 700,
        limitTest: 100,
      });
      await log.until(() => log.of(runId).some((e) => e.kind !== 'progress'), 'the first epoch');
      assert.equal(await services.killTrainingWorker(), true);
      const end = await log.end(runId);
      assert.equal(end.kind, 'failed', JSON.stringify(end.value));
      assert.equal((end.value as { error: { name: string } }).error.name, 'WorkerCrashed');
      const detail = await api.runs.getRun(runId);
      assert.equal(detail.status, 'failed');
      assert.match(detail.error?.message ?? '', /worker/);
      assert.ok(detail.history.length >= 1, 'the epochs saved before the crash survive');
      // The app carries on: a new run can start (and is stopped at once).
      const next = await api.training.startTraining({ spec: readExample('small-cnn'), hyperparameters: shortRun(1), datasetId: 'fashion-mnist', limitTrain: 300, limitTest: 100 });
      await api.training.stopTraining(next.runId);
      assert.equal((await log.end(next.runId)).kind, 'finished');
      assert.equal((await get(server.port, `/?token=${server.token}`)).status, 200);
    } finally {
      log.dispose();
      api.close();
    }
  });
});

describe('browser-mode client', () => {
  it('reconnects after the server restarts and answers the calls made meanwhile', async () => {
    const services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs-reconnect') });
    const staticDir = staticFixture();
    let server = await startServer({ services, port: 0, staticDir });
    const { port, token } = server;
    const api = createSocketApi({
      url: `ws://127.0.0.1:${port}/ws?token=${token}`,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      reconnectDelayMs: 50,
    });
    try {
      await api.ready();
      assert.ok(Array.isArray(await api.runs.listRuns()));
      const dropped = new Promise<void>((resolve) => {
        const off = api.onConnectionChange((connected) => {
          if (connected) return;
          off();
          resolve();
        });
      });
      await server.close();
      await dropped;
      // Asked while the server is down: queued, then sent once the client is back.
      const pending = api.model.listTemplates();
      server = await startServer({ services, port, token, staticDir });
      const templates = await pending;
      assert.ok(templates.some((t) => t.id === 'lesson-cnn'));
    } finally {
      api.close();
      await server.close();
      await services.dispose();
    }
  });

  it('fails calls plainly once closed', async () => {
    const services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs-closed') });
    const server = await startServer({ services, port: 0, staticDir: staticFixture() });
    const api = client(server);
    try {
      await api.ready();
      api.close();
      await assert.rejects(api.runs.listRuns(), (err: Error) => err.name === 'ConnectionClosed');
    } finally {
      await server.close();
      await services.dispose();
    }
  });
});
