// Worker entry under tsx (tests, the CLI's browser mode): a worker thread does not inherit the parent's
// tsx loader when the parent registered it through the API, so register it here, then load the TS worker.
// The Electron bundle does not use this file: electron-vite builds training-worker.ts as out/main/worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./training-worker.ts');
