#!/usr/bin/env bash
# Unit and integration tests beside the code (*.test.ts), in plain Node via tsx.
# Node 20's --test takes no globs, so the file list comes from find. Extra args narrow it: scripts/test-unit.sh core/data
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
mapfile -t files < <(find src-main src-renderer bench scripts -name '*.test.ts' -not -path '*/node_modules/*' | grep -- "$filter" | sort)
if ((${#files[@]} == 0)); then echo "no test files match '$filter'" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
