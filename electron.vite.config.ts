import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// main + preload are Node/Electron bundles; the renderer is a plain Vite + Svelte app that browser mode
// (`cnn-workbench serve`) serves from out/renderer as well.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/app/index.ts') },
        // tfjs, its wasm files and native addons stay in node_modules: they are loaded at run time.
        external: [/^@tensorflow\//, 'onnxruntime-node', 'tsx', /\.node$/],
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/preload/index.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
    plugins: [svelte()],
  },
});
