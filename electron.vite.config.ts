import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * electron-vite's ESM shim prepends `const require = createRequire(import.meta.url)` to every chunk that
 * mentions `require(`. A module that declares its own top-level `require` the same way (the backend picker
 * does, to probe optional native packages) then redeclares it: "Identifier 'require' has already been
 * declared" when the chunk loads. Both bind createRequire of the same chunk URL, so dropping the module's
 * copy keeps the meaning.
 */
function dedupeRequireShim(): Plugin {
  const shim = /const require = __shims_module__\.createRequire\(import\.meta\.url\);/;
  const own = /^(?:var|let|const) require = (?:[\w$]+\.)?createRequire\(import\.meta\.url\);$/gm;
  return {
    name: 'cnn-workbench:dedupe-require-shim',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk' || !shim.test(chunk.code)) continue;
        chunk.code = chunk.code.replace(own, (line) => (line.startsWith('const require = __shims_module__') ? line : ''));
      }
    },
  };
}

// main + preload are Node/Electron bundles; the renderer is a plain Vite + Svelte app that browser mode
// (`cnn-workbench serve`) serves from out/renderer as well.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // The training worker is a second entry (out/main/worker.js): main starts it as a worker thread.
        // So is the image-folder decoder (out/main/image-decode-worker.js), started by the data layer.
        input: {
          index: resolve(__dirname, 'src-main/app/index.ts'),
          worker: resolve(__dirname, 'src-main/worker/training-worker.ts'),
          'image-decode-worker': resolve(__dirname, 'src-main/core/data/image-decode-worker.ts'),
        },
        // tfjs, its wasm files and native addons stay in node_modules: they are loaded at run time.
        external: [/^@tensorflow\//, 'onnxruntime-node', 'tsx', /\.node$/],
      },
    },
    plugins: [dedupeRequireShim()],
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
    // As tsconfig.json's "paths": the renderer's one way to reach src-main/shared (types and plain data).
    resolve: { alias: { $shared: resolve(__dirname, 'src-main/shared') } },
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
    plugins: [svelte()],
  },
});
