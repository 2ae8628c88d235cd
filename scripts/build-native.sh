#!/usr/bin/env bash
# Builds the native training kernels (native/cnnwb.cc → native/build/cnnwb.node) against the system OpenBLAS.
# Plain g++, no node-gyp: node-gyp would download Node headers, and installs here are offline; the headers
# ship with Node (<prefix>/include/node). Run by `npm install` (postinstall) in --optional mode, which never
# fails the install: the wasm backend is the fallback, and the reason lands in native/build/build-error.txt,
# where the backend picker reads it to say why native is not used.
#   bash scripts/build-native.sh [--optional]
# Environment: CNNWB_BUILD_DIR (default native/build), CNNWB_NO_DNNL=1 (skip oneDNN even where it is installed).
set -uo pipefail
cd "$(dirname "$0")/.."
optional=0; [[ "${1:-}" == "--optional" ]] && optional=1
out="${CNNWB_BUILD_DIR:-native/build}"
mkdir -p "$out"
rm -f "$out/build-error.txt"

fail() {
  echo "native kernels not built: $1" | tee "$out/build-error.txt" >&2
  ((optional)) && { echo "(the wasm backend will be used instead; see README: apt-get install g++ libopenblas-dev)" >&2; exit 0; }
  exit 1
}

node_bin="$(command -v node)" || fail "node is not on PATH"
node_inc="$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node"
[[ -f "$node_inc/node_api.h" ]] || fail "Node headers not found at $node_inc (node_api.h)"
cxx="${CXX:-g++}"
command -v "$cxx" >/dev/null || fail "no C++ compiler ($cxx) — apt-get install g++"
blas_inc=""
for d in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/aarch64-linux-gnu/openblas-pthread /usr/include/openblas /usr/include; do
  [[ -f "$d/cblas.h" ]] && { blas_inc="$d"; break; }
done
[[ -n "$blas_inc" ]] || fail "cblas.h not found — apt-get install libopenblas-dev"

# oneDNN (Debian's libdnnl-dev, what PyTorch's CPU convolutions use) for the convolutions when present; the
# im2col + OpenBLAS path covers machines without it.
# CNNWB_NO_DNNL=1 builds without it (to check that path). OpenMP (the fused training step's threads) whenever
# the compiler has it; without it the step runs on one thread.
dnnl_flags=()
dnnl_note="im2col + OpenBLAS convolutions (apt-get install libdnnl-dev for oneDNN ones)"
# (A link test, not `ldconfig -p | grep -q`: under pipefail that pipeline fails at random when grep exits early.)
if [[ -z "${CNNWB_NO_DNNL:-}" && -f /usr/include/oneapi/dnnl/dnnl.hpp ]] &&
  printf 'const void* dnnl_version(void);\nint main(void) { return dnnl_version() == 0; }\n' | "$cxx" -x c - -ldnnl -o /dev/null 2>/dev/null; then
  dnnl_flags=(-DCNNWB_DNNL -ldnnl)
  dnnl_note="oneDNN convolutions"
fi
omp_flags=()
if echo 'int main(){return 0;}' | "$cxx" -x c++ -fopenmp - -o /dev/null 2>/dev/null; then
  omp_flags=(-fopenmp)
elif ((${#dnnl_flags[@]})); then
  dnnl_flags=(); dnnl_note="im2col + OpenBLAS convolutions (oneDNN needs OpenMP, which $cxx lacks)"
fi

# -march=native: the addon is built on the machine that runs it (at install), so use all of its SIMD.
# -fno-math-errno: nothing reads errno, and a loop calling std::sqrt otherwise keeps a branch per element that stops
# it vectorizing (Adam over the lesson's 401,408 Dense weights: 0.73 → 0.12 ms on two threads).
if ! "$cxx" -O3 -march=native -fno-math-errno -std=c++17 -fPIC -shared -pthread -DNODE_GYP_MODULE_NAME=cnnwb \
  -I"$node_inc" -I"$blas_inc" native/*.cc -o "$out/cnnwb.node.tmp" -ldl "${omp_flags[@]}" "${dnnl_flags[@]}" 2>"$out/compile.log"; then
  fail "compile failed ($(head -c 300 "$out/compile.log" | tr '\n' ' '))"
fi
mv "$out/cnnwb.node.tmp" "$out/cnnwb.node"
addon="$(cd "$out" && pwd)/cnnwb.node"
if ! node -e "require('$addon').info()" 2>"$out/compile.log"; then
  rm -f "$out/cnnwb.node"
  fail "built but does not load ($(head -c 300 "$out/compile.log" | tr '\n' ' '))"
fi
echo "native kernels built: $out/cnnwb.node ($(node -p "require('$addon').info().core") kernels, $dnnl_note)"
