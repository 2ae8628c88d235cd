// Worker entry under tsx (tests, the CLI): a worker thread does not inherit the parent's tsx loader when the
// parent registered it through the API, so register it here, then load the TS worker. The Electron bundle
// builds image-decode-worker.ts as its own chunk instead.
import { register } from 'tsx/esm/api';

register();
await import('./image-decode-worker.ts');
