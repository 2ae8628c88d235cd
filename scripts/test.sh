#!/usr/bin/env bash
# The whole test suite, as CI runs it: types, layering lint, unit + integration tests, the Electron build,
# then the Playwright specs against browser mode in system Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint"; npx eslint .
echo "== svelte-check"; npx svelte-check --tsconfig src-renderer/tsconfig.json --fail-on-warnings
echo "== unit + integration"; bash scripts/test-unit.sh
if [[ -f electron.vite.config.ts ]]; then echo "== electron-vite build"; npx electron-vite build; fi
if compgen -G "e2e/*.spec.ts" > /dev/null; then echo "== e2e (Playwright)"; npx playwright test; fi
