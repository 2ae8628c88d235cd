/**
 * A worker thread that decodes image-folder files (see `image-decode.ts`): one job in, one result out, the
 * decoded bytes transferred rather than copied.
 */
import { parentPort } from 'node:worker_threads';
import { decodeFile, type DecodeJob } from './image-decode';

const port = parentPort;
if (!port) throw new Error('image-decode-worker.ts runs as a worker thread');
port.on('message', (job: DecodeJob) => {
  void decodeFile(job).then((r) => port.postMessage(r, r.ok ? [r.bytes.buffer as ArrayBuffer] : []));
});
