/**
 * Load on the real `cnn-workbench serve` process, loopback only: one client pipelines 60 requests of 10,000
 * test images each (the largest a call may ask for) and stops reading for a while, as a careless or hostile
 * page could; the server must stay under a memory ceiling and keep answering another client meanwhile.
 * Nothing here is timed: the flooder reads nothing until the other client has had answers.
 * Before the per-connection limits and binary pixels, 20 such requests took the server to 2.2 GB and 60 past
 * V8's heap limit (the process died). The data is made here: 10,000 generated 28×28 images as IDX files.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REQUESTS = 60;
const IMAGES = 10_000;
/**
 * The server's peak resident memory (VmHWM) may not pass this. Measured on the 2-core machine (at load 18–22):
 * ~200 MB idle with the dataset cached, 494–633 MB at the peak of this test (it varies with GC timing). The 60 replies are 676 MB of JSON:
 * holding them at once (as before) cannot fit, and did not (2.2 GB at 20 requests, the heap limit at 60).
 */
const CEILING_MB = 800;

/** The IDX bytes of `count` images of 28×28 (pixel = a hash of image and position) or their labels. */
function idx(kind: 'images' | 'labels', count: number): Buffer {
  if (kind === 'labels') {
    const b = Buffer.alloc(8 + count);
    b.writeUInt32BE(0x00000801, 0);
    b.writeUInt32BE(count, 4);
    for (let i = 0; i < count; i++) b[8 + i] = i % 10;
    return b;
  }
  const b = Buffer.alloc(16 + count * 784);
  b.writeUInt32BE(0x00000803, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(28, 8);
  b.writeUInt32BE(28, 12);
  for (let i = 0; i < count * 784; i++) b[16 + i] = (i * 2654435761) >>> 24;
  return b;
}

/** Resident memory of a process now and at its peak, in MB, from /proc. */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** A raw socket client: requests by id, replies as text (parsed only as far as a test needs). */
class Client {
  private readonly waiting = new Map<number, (text: string) => void>();
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      const id = Number(/^\{"id":(\d+)/.exec(text)?.[1]);
      this.waiting.get(id)?.(text);
      this.waiting.delete(id);
    });
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  request(method: string, args: unknown[]): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, args }));
    });
  }

  async call<T>(method: string, args: unknown[]): Promise<T> {
    const reply = JSON.parse(await this.request(method, args)) as { ok: boolean; result: T; error?: { message: string } };
    if (!reply.ok) throw new Error(reply.error?.message);
    return reply.result;
  }
}

describe('browser mode under load (loopback)', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-load-'));
  const dataDir = path.join(home, 'data', 'generated-10k');
  let server: ChildProcess;
  let url = '';

  before(async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'train-images-idx3-ubyte'), idx('images', 100));
    fs.writeFileSync(path.join(dataDir, 'train-labels-idx1-ubyte'), idx('labels', 100));
    fs.writeFileSync(path.join(dataDir, 't10k-images-idx3-ubyte'), idx('images', IMAGES));
    fs.writeFileSync(path.join(dataDir, 't10k-labels-idx1-ubyte'), idx('labels', IMAGES));
    server = spawn(process.execPath, [path.join(root, 'bin', 'cnn-workbench.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-root', path.join(home, 'data')], {
      env: { ...process.env, CNN_WORKBENCH_HOME: home },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+)/.exec(out);
        if (m) resolve(`ws://127.0.0.1:${m[1]}/ws?token=${m[2]}`);
      });
      server.once('exit', (code) => reject(new Error(`serve exited with code ${code}: ${out}`)));
    });
  });

  after(async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it(`60 pipelined 10,000-image requests: the server stays under ${CEILING_MB} MB and keeps answering another client`, async (t) => {
    const setup = await Client.open(url);
    const info = await setup.call<{ id: string; testCount: number }>('datasets.importDataset', [dataDir]);
    assert.equal(info.testCount, IMAGES);
    const all = Array.from({ length: IMAGES }, (_, i) => i);
    // Warm: the dataset is loaded and cached, so what follows measures serving, not loading.
    const warm = await setup.call<{ index: number; pixelsBase64: string }[]>('datasets.getTestImages', [info.id, all]);
    assert.equal(warm.length, IMAGES);
    const generated = idx('images', IMAGES);
    assert.deepEqual(Buffer.from(warm[4321]!.pixelsBase64, 'base64'), generated.subarray(16 + 4321 * 784, 16 + 4322 * 784));
    const idle = memoryMb(server.pid!);

    const flood = await Client.open(url);
    const other = await Client.open(url);
    // The flooding client sends everything, then reads nothing for a while: replies pile up unless the server holds back.
    flood.ws.pause();
    let floodDone = false;
    const replies = Array.from({ length: REQUESTS }, () => flood.request('datasets.getTestImages', [info.id, all]));
    const answeredWhileFlooding: number[] = [];
    const otherLoop = (async () => {
      for (let i = 0; !floodDone && i < 1000; i++) {
        const templates = await other.call<{ id: string }[]>('model.listTemplates', []);
        assert.ok(templates.length > 0);
        if (!floodDone) answeredWhileFlooding.push(i);
      }
    })();
    // The flooder stays paused until the other client has been answered a few times (or a minute passes, which
    // fails the test below): a wait on the server's behaviour, not on a timing.
    const pausedAt = Date.now();
    while (answeredWhileFlooding.length < 5 && Date.now() - pausedAt < 60_000) await new Promise((resolve) => setTimeout(resolve, 50));
    const whilePaused = answeredWhileFlooding.length;
    const pausedSeconds = (Date.now() - pausedAt) / 1000;
    flood.ws.resume();
    let sizes = 0;
    let ok = 0;
    for (const reply of replies) {
      const text = await reply;
      sizes += text.length;
      if (text.startsWith(`{"id":`) && text.includes('"ok":true')) ok++;
    }
    floodDone = true;
    await otherLoop;
    const end = memoryMb(server.pid!);
    t.diagnostic(
      `server RSS: idle ${idle.rss.toFixed(0)} MB (peak so far ${idle.peak.toFixed(0)} MB); after the flood ${end.rss.toFixed(0)} MB, peak ${end.peak.toFixed(0)} MB; ` +
        `${ok}/${REQUESTS} replies, ${(sizes / 1e6).toFixed(0)} MB sent; the other client was answered ${answeredWhileFlooding.length} times during the flood (${whilePaused} in the ${pausedSeconds.toFixed(1)} s the flooder read nothing)`,
    );
    assert.equal(ok, REQUESTS, 'every request answered in full');
    assert.ok(end.peak < CEILING_MB, `peak RSS ${end.peak.toFixed(0)} MB is over the ${CEILING_MB} MB ceiling`);
    assert.ok(whilePaused >= 5, `the other client was answered only ${whilePaused} times in a minute while the flooder read nothing`);
    assert.equal(server.exitCode, null, 'the server is still running');
    for (const c of [setup, flood, other]) c.ws.close();
  });
});
