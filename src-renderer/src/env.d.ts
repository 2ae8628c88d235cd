/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { WorkbenchApi } from '$shared/contract';

declare global {
  interface Window {
    /** Present only inside Electron: the preload's contract bridge. */
    workbench?: WorkbenchApi;
  }
}
