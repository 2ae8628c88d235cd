import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposureWarning } from './serve';

test('--host beyond loopback warns that the token travels unencrypted; loopback says nothing', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'workbench.local']) {
    const w = exposureWarning(host) ?? '';
    assert.match(w, new RegExp(`listening on ${host.replace(/\./g, '\\.')}, not only on loopback`));
    assert.match(w, /travel UNENCRYPTED \(plain HTTP and ws:\/\/, no TLS\)/);
    assert.match(w, /ssh tunnel/);
  }
  for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) assert.equal(exposureWarning(host), null, host);
});
