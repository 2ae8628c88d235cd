import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataError } from './errors';
import { DEBIAN_FASHION_MNIST_DIR, IDX_FILE_NAMES, IDX_ROLES, locateFashionMnist } from './locate';
import { cleanup, tempDir } from './testkit';

/** A local HTTP server: `handler` decides per request. Closed after the suite. */
async function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** A local port nothing listens on (bound, then released), so connecting is refused at once. */
async function closedPort(): Promise<number> {
  const { server } = await serve(() => undefined);
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('locateFashionMnist', () => {
  let root: string;
  const servers: http.Server[] = [];
  before(() => {
    root = tempDir();
  });
  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    cleanup(root);
  });

  it('finds the Debian copy when the user folder is empty', async () => {
    assert.equal(await locateFashionMnist({ dataDir: path.join(root, 'empty'), download: false }), DEBIAN_FASHION_MNIST_DIR);
  });

  it('prefers the user folder over the Debian copy', async () => {
    const dir = path.join(root, 'user');
    mkdirSync(dir);
    for (const role of IDX_ROLES) copyFileSync(path.join(DEBIAN_FASHION_MNIST_DIR, `${IDX_FILE_NAMES[role]}.gz`), path.join(dir, `${IDX_FILE_NAMES[role]}.gz`));
    assert.equal(await locateFashionMnist({ dataDir: dir, download: false }), dir);
  });

  it('fails quickly with a clear DataError when the mirror is unreachable', async () => {
    const dir = path.join(root, 'offline');
    const closed = await closedPort();
    const started = Date.now();
    await assert.rejects(
      locateFashionMnist({ dataDir: dir, systemDirs: [], mirrors: [`http://127.0.0.1:${closed}/`], idleTimeoutMs: 2000 }),
      (err: unknown) => {
        assert.ok(err instanceof DataError);
        assert.match(err.message, /could not be downloaded \(train-images-idx3-ubyte\.gz\)/);
        assert.ok(err.message.includes(`http://127.0.0.1:${closed}/train-images-idx3-ubyte.gz: connect ECONNREFUSED`), err.message);
        assert.match(err.message, /dataset-fashion-mnist/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'no hang');
    assert.deepEqual(readdirSync(dir), [], 'nothing half-written');
  });

  it('gives up on a mirror that accepts but never answers, after the idle timeout', async () => {
    const { url, server } = await serve(() => undefined);
    servers.push(server);
    await assert.rejects(
      locateFashionMnist({ dataDir: path.join(root, 'stalled'), systemDirs: [], mirrors: [url], idleTimeoutMs: 300 }),
      /no data for 300 ms/,
    );
  });

  it('downloads from a mirror with progress, verifies SHA-256 and writes the four files atomically', async () => {
    const { url, server } = await serve((req, res) => {
      const file = path.join(DEBIAN_FASHION_MNIST_DIR, path.basename(req.url ?? ''));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    servers.push(server);
    const dir = path.join(root, 'downloaded');
    const progress: [number, number][] = [];
    // The first mirror is dead: the second one must be tried.
    const found = await locateFashionMnist({ dataDir: dir, systemDirs: [], mirrors: [`http://127.0.0.1:${await closedPort()}/`, url], onProgress: (r, t) => progress.push([r, t]) });
    assert.equal(found, dir);
    assert.deepEqual(readdirSync(dir).sort(), IDX_ROLES.map((r) => `${IDX_FILE_NAMES[r]}.gz`).sort(), 'no temp files left');
    const total = IDX_ROLES.reduce((s, r) => s + readFileSync(path.join(dir, `${IDX_FILE_NAMES[r]}.gz`)).length, 0);
    const last = progress.at(-1)!;
    assert.deepEqual(last, [total, total]);
    assert.ok(progress.every(([r, t], i) => r <= t && (i === 0 || r >= progress[i - 1]![0])), 'progress is monotonic and bounded');
  });

  it('rejects a download whose content does not match the published digest', async () => {
    const { url, server } = await serve((req, res) => {
      const bytes = Buffer.from(readFileSync(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
      res.writeHead(200).end(bytes); // the wrong file for every name
    });
    servers.push(server);
    const dir = path.join(root, 'tampered');
    await assert.rejects(locateFashionMnist({ dataDir: dir, systemDirs: [], mirrors: [url] }), /decompresses to 10008 bytes, expected 47040016/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
