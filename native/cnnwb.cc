// CNN Workbench native kernels: the hot training ops (convolution forward and both backprops, matrix
// products) as im2col + OpenBLAS SGEMM, called synchronously from tfjs kernels on the wasm backend.
//
// Every tensor argument is a Float32Array view (usually straight onto the wasm heap: no copies). The JS side
// validates shapes; here we only check types and lengths, so a bad call throws instead of corrupting memory.
#include <node_api.h>

#include "conv.h"
#include "trainer.h"
#include <cblas.h>
#include <dlfcn.h>
#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

struct F32 {
  float* data = nullptr;
  size_t length = 0;
};


// OpenBLAS, opened at run time rather than linked: its DYNAMIC_ARCH kernel choice happens when the library
// loads, and 0.3.21 takes AMD Zen 4/5 (full AVX-512) for Haswell (AVX2) — half the SGEMM throughput of its
// SkylakeX kernels on these CPUs (lesson CNN: 276 → 415 img/s). So before loading it we ask for SkylakeX when
// the CPU has the AVX-512 subsets those kernels use, unless the user already chose (OPENBLAS_CORETYPE).
struct Blas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&openblas_set_num_threads) setThreads = nullptr;
  decltype(&openblas_get_config) config = nullptr;
  decltype(&openblas_get_corename) corename = nullptr;
  std::string coreChosenBy = "openblas";
} g_blas;

std::string LoadBlas() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) {
    g_blas.coreChosenBy = "OPENBLAS_CORETYPE";
  } else if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    g_blas.coreChosenBy = "cnnwb (AVX-512)";
  }
  void* lib = nullptr;
  std::string tried;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"}) {
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
    tried += std::string(tried.empty() ? "" : "; ") + dlerror();
  }
  if (!lib) return "OpenBLAS not found (" + tried + ") — apt-get install libopenblas0";
  g_blas.sgemm = reinterpret_cast<decltype(g_blas.sgemm)>(dlsym(lib, "cblas_sgemm"));
  g_blas.setThreads = reinterpret_cast<decltype(g_blas.setThreads)>(dlsym(lib, "openblas_set_num_threads"));
  g_blas.config = reinterpret_cast<decltype(g_blas.config)>(dlsym(lib, "openblas_get_config"));
  g_blas.corename = reinterpret_cast<decltype(g_blas.corename)>(dlsym(lib, "openblas_get_corename"));
  if (!g_blas.sgemm || !g_blas.setThreads || !g_blas.config || !g_blas.corename) return "the BLAS library found is not OpenBLAS";
  return "";
}

// Scratch for im2col columns, reused across calls (the JS thread is the only caller).
int g_threads = 1;

bool Throw(napi_env env, const std::string& msg) {
  napi_throw_error(env, "CNNWB_NATIVE", msg.c_str());
  return false;
}

bool GetF32(napi_env env, napi_value v, const char* name, F32* out, bool allowNull = false) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (allowNull && (t == napi_null || t == napi_undefined)) {
    *out = F32{};
    return true;
  }
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return Throw(env, std::string(name) + ": expected a Float32Array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buf;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &data, &buf, &offset);
  if (type != napi_float32_array) return Throw(env, std::string(name) + ": expected a Float32Array");
  out->data = static_cast<float*>(data);
  out->length = length;
  return true;
}

// A JS array of numbers (T = int64_t: integers only).
template <typename T>
bool GetNumbers(napi_env env, napi_value v, const char* name, std::vector<T>* out) {
  constexpr bool ints = std::is_same<T, int64_t>::value;
  bool isArray = false;
  napi_is_array(env, v, &isArray);
  if (!isArray) return Throw(env, std::string(name) + (ints ? ": expected an array of integers" : ": expected an array of numbers"));
  uint32_t n;
  napi_get_array_length(env, v, &n);
  out->resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    napi_status st;
    if constexpr (ints) st = napi_get_value_int64(env, e, &(*out)[i]);
    else st = napi_get_value_double(env, e, &(*out)[i]);
    if (st != napi_ok) return Throw(env, std::string(name) + (ints ? ": expected integers" : ": expected numbers"));
  }
  return true;
}

bool GetInts(napi_env env, napi_value v, const char* name, std::vector<int64_t>* out) { return GetNumbers(env, v, name, out); }

bool GetInt(napi_env env, napi_value v, const char* name, int64_t* out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) return Throw(env, std::string(name) + ": expected an integer");
  return true;
}

using cnnwb::Conv;

bool GetConv(napi_env env, napi_value v, Conv* g) {
  std::vector<int64_t> p;
  if (!GetInts(env, v, "conv geometry", &p)) return false;
  if (p.size() != 15) return Throw(env, "conv geometry: expected 15 integers");
  *g = Conv{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
  return true;
}

// Runs fn(begin, end) over [0, n) on up to g_threads threads (the caller's thread does the first share).
template <typename Fn>
void ParallelFor(int64_t n, Fn fn) {
  int t = static_cast<int>(std::min<int64_t>(g_threads, n));
  if (t <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  int64_t per = (n + t - 1) / t;
  for (int i = 1; i < t; i++) {
    int64_t b = i * per, e = std::min(n, b + per);
    if (b < e) pool.emplace_back([=] { fn(b, e); });
  }
  fn(0, std::min(n, per));
  for (auto& th : pool) th.join();
}

// cols[r, (i*kw + j)*c + ch] = x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, ch] for images [n0, n1), zero in padding.
void Im2col(const Conv& g, const float* x, int64_t n0, int64_t n1, float* cols) {
  const int64_t K = g.K(), P = g.pixels();
  {
    const int64_t b = 0, e = (n1 - n0) * g.oh;
    for (int64_t row = b; row < e; row++) {
      int64_t n = n0 + row / g.oh, y = row % g.oh;
      float* dst = cols + (row / g.oh) * P * K + y * g.ow * K;
      for (int64_t xo = 0; xo < g.ow; xo++, dst += K) {
        for (int64_t i = 0; i < g.kh; i++) {
          int64_t ih = y * g.sh - g.pt + i * g.dh;
          for (int64_t j = 0; j < g.kw; j++) {
            float* d = dst + (i * g.kw + j) * g.c;
            int64_t iw = xo * g.sw - g.pl + j * g.dw;
            if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) {
              std::memset(d, 0, sizeof(float) * g.c);
            } else {
              std::memcpy(d, x + ((n * g.h + ih) * g.w + iw) * g.c, sizeof(float) * g.c);
            }
          }
        }
      }
    }
  }
}

// dx[n, ih, iw, ch] += cols[r, tap*c + ch]: the adjoint of Im2col. Parallel over images (disjoint outputs).
void Col2im(const Conv& g, const float* cols, int64_t n0, int64_t n1, float* dx) {
  const int64_t K = g.K(), P = g.pixels();
  {
    const int64_t b = 0, e = n1 - n0;
    for (int64_t k = b; k < e; k++) {
      int64_t n = n0 + k;
      const float* src = cols + k * P * K;
      for (int64_t y = 0; y < g.oh; y++) {
        for (int64_t xo = 0; xo < g.ow; xo++, src += K) {
          for (int64_t i = 0; i < g.kh; i++) {
            int64_t ih = y * g.sh - g.pt + i * g.dh;
            if (ih < 0 || ih >= g.h) continue;
            for (int64_t j = 0; j < g.kw; j++) {
              int64_t iw = xo * g.sw - g.pl + j * g.dw;
              if (iw < 0 || iw >= g.w) continue;
              float* d = dx + ((n * g.h + ih) * g.w + iw) * g.c;
              const float* s = src + (i * g.kw + j) * g.c;
              for (int64_t ch = 0; ch < g.c; ch++) d[ch] += s[ch];
            }
          }
        }
      }
    }
  }
}

// Images per im2col chunk: the column buffer stays near 16 MB, and the GEMM stays large.
int64_t ChunkImages(const Conv& g) {
  const int64_t perImage = g.pixels() * g.K();
  return std::max<int64_t>(1, std::min<int64_t>(g.n, (int64_t{4} << 20) / std::max<int64_t>(1, perImage)));
}

// One im2col buffer per worker thread (workers are short-lived, so thread_local would not be reused).
std::vector<std::vector<float>> g_colsPerWorker;

float* Cols(int worker, size_t n) {
  if (g_colsPerWorker.size() <= size_t(worker)) g_colsPerWorker.resize(worker + 1);
  std::vector<float>& b = g_colsPerWorker[worker];
  if (b.size() < n) b.resize(n);
  return b.data();
}

// Splits images [0, n) into one contiguous range per thread and runs fn(worker, n0, n1) on each, in parallel.
// Each worker runs single-threaded SGEMMs on its own images: one join per op instead of a barrier inside every
// GEMM, which matters when the cores are shared, and the small-N GEMMs of a CNN parallelise poorly inside BLAS.
template <typename Fn>
void ForImageRanges(int64_t n, Fn fn) {
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, n)));
  if (t == 1) {
    fn(0, 0, n);
    return;
  }
  if (g_colsPerWorker.size() < size_t(t)) g_colsPerWorker.resize(t);
  std::vector<std::thread> pool;
  const int64_t per = (n + t - 1) / t;
  for (int i = 1; i < t; i++) {
    const int64_t b = i * per, e = std::min(n, b + per);
    if (b < e) pool.emplace_back([=] { fn(i, b, e); });
  }
  fn(0, 0, std::min(n, per));
  for (auto& th : pool) th.join();
}

void BiasAct(float* out, int64_t rows, int64_t cols, const float* bias, bool relu) {
  if (!bias && !relu) return;
  ParallelFor(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      float* o = out + r * cols;
      if (bias) for (int64_t c = 0; c < cols; c++) o[c] += bias[c];
      if (relu) for (int64_t c = 0; c < cols; c++) o[c] = o[c] > 0 ? o[c] : 0;
    }
  });
}

// Forward convolution by oneDNN when it takes the geometry, else im2col + SGEMM (+ bias, ReLU).
void ConvForwardAny(const Conv& g, const float* x, const float* w, const float* bias, float* out, bool relu) {
  if (cnnwb::DnnlConvForward(g, x, w, bias, out, relu)) return;
  const int64_t K = g.K(), P = g.pixels();
  const int64_t chunk = ChunkImages(g);
  ForImageRanges(g.n, [&](int worker, int64_t b, int64_t e) {
    if (g.pointwise()) {
      g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (e - b) * P, g.oc, K, 1.f, x + b * P * K, K, w, g.oc, 0.f,
                  out + b * P * g.oc, g.oc);
    } else {
      float* cols = Cols(worker, size_t(chunk * P * K));
      for (int64_t n0 = b; n0 < e; n0 += chunk) {
        int64_t n1 = std::min(e, n0 + chunk);
        Im2col(g, x, n0, n1, cols);
        g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (n1 - n0) * P, g.oc, K, 1.f, cols, K, w, g.oc, 0.f,
                    out + n0 * P * g.oc, g.oc);
      }
    }
  });
  BiasAct(out, g.n * P, g.oc, bias, relu);

}

// conv2d(x, w, bias | null, out, geometry, relu)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 x, w, bias, out;
  Conv g;
  bool relu = false;
  if (argc < 6 || !GetF32(env, a[0], "x", &x) || !GetF32(env, a[1], "filter", &w) || !GetF32(env, a[2], "bias", &bias, true) ||
      !GetF32(env, a[3], "out", &out) || !GetConv(env, a[4], &g))
    return nullptr;
  napi_get_value_bool(env, a[5], &relu);
  const int64_t K = g.K(), P = g.pixels();
  if (x.length < size_t(g.n * g.h * g.w * g.c) || w.length < size_t(K * g.oc) || out.length < size_t(g.n * P * g.oc) ||
      (bias.data && bias.length < size_t(g.oc))) {
    Throw(env, "conv2d: a buffer is smaller than its geometry");
    return nullptr;
  }
  ConvForwardAny(g, x.data, w.data, bias.data, out.data, relu);
  return nullptr;
}

// dx of a convolution by oneDNN when it takes the geometry, else SGEMM + col2im.
void ConvBackwardDataAny(const Conv& g, const float* dy, const float* w, float* dx) {
  if (cnnwb::DnnlConvBackwardData(g, dy, w, dx)) return;
  const int64_t K = g.K(), P = g.pixels();
  const int64_t chunk = ChunkImages(g);
  ForImageRanges(g.n, [&](int worker, int64_t b, int64_t e) {
    if (g.pointwise()) {
      g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (e - b) * P, K, g.oc, 1.f, dy + b * P * g.oc, g.oc, w, g.oc,
                  0.f, dx + b * P * K, K);
      return;
    }
    std::memset(dx + b * g.h * g.w * g.c, 0, sizeof(float) * size_t((e - b) * g.h * g.w * g.c));
    float* cols = Cols(worker, size_t(chunk * P * K));
    for (int64_t n0 = b; n0 < e; n0 += chunk) {
      int64_t n1 = std::min(e, n0 + chunk);
      g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (n1 - n0) * P, K, g.oc, 1.f, dy + n0 * P * g.oc, g.oc, w,
                  g.oc, 0.f, cols, K);
      Col2im(g, cols, n0, n1, dx);
    }
  });

}

// conv2dBackpropInput(dy, w, dx, geometry): dx = col2im(dy · wᵀ)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 dy, w, dx;
  Conv g;
  if (argc < 4 || !GetF32(env, a[0], "dy", &dy) || !GetF32(env, a[1], "filter", &w) || !GetF32(env, a[2], "dx", &dx) ||
      !GetConv(env, a[3], &g))
    return nullptr;
  const int64_t K = g.K(), P = g.pixels();
  if (dy.length < size_t(g.n * P * g.oc) || w.length < size_t(K * g.oc) || dx.length < size_t(g.n * g.h * g.w * g.c)) {
    Throw(env, "conv2dBackpropInput: a buffer is smaller than its geometry");
    return nullptr;
  }
  ConvBackwardDataAny(g, dy.data, w.data, dx.data);
  return nullptr;
}

// dw (and dbias = Σ dy when asked) of a convolution by oneDNN when it takes the geometry, else im2col + SGEMM.
void ConvBackwardFilterAny(const Conv& g, const float* x, const float* dy, float* dw, float* dbias) {
  if (cnnwb::DnnlConvBackwardFilter(g, x, dy, dw, dbias)) return;
  const int64_t K = g.K(), P = g.pixels();
  // Each worker accumulates its own partial dW over its images; the partials are summed at the end.
  const int64_t chunk = ChunkImages(g);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, g.n)));
  std::vector<std::vector<float>> partial(workers - 1, std::vector<float>(size_t(K * g.oc)));
  ForImageRanges(g.n, [&](int worker, int64_t b, int64_t e) {
    float* acc = worker == 0 ? dw : partial[worker - 1].data();
    if (g.pointwise()) {
      g_blas.sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.oc, (e - b) * P, 1.f, x + b * P * K, K, dy + b * P * g.oc,
                  g.oc, 0.f, acc, g.oc);
      return;
    }
    float* cols = Cols(worker, size_t(chunk * P * K));
    for (int64_t n0 = b; n0 < e; n0 += chunk) {
      int64_t n1 = std::min(e, n0 + chunk);
      Im2col(g, x, n0, n1, cols);
      g_blas.sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.oc, (n1 - n0) * P, 1.f, cols, K, dy + n0 * P * g.oc, g.oc,
                  n0 == b ? 0.f : 1.f, acc, g.oc);
    }
  });
  for (const auto& p : partial) {
    for (int64_t i = 0; i < K * g.oc; i++) dw[i] += p[i];
  }

  if (dbias) {
    std::fill(dbias, dbias + g.oc, 0.f);
    for (int64_t r = 0; r < g.n * P; r++)
      for (int64_t j = 0; j < g.oc; j++) dbias[j] += dy[r * g.oc + j];
  }
}

// conv2dBackpropFilter(x, dy, dw, geometry): dw = im2col(x)ᵀ · dy
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 x, dy, dw;
  Conv g;
  if (argc < 4 || !GetF32(env, a[0], "x", &x) || !GetF32(env, a[1], "dy", &dy) || !GetF32(env, a[2], "dw", &dw) ||
      !GetConv(env, a[3], &g))
    return nullptr;
  const int64_t K = g.K(), P = g.pixels();
  if (x.length < size_t(g.n * g.h * g.w * g.c) || dy.length < size_t(g.n * P * g.oc) || dw.length < size_t(K * g.oc)) {
    Throw(env, "conv2dBackpropFilter: a buffer is smaller than its geometry");
    return nullptr;
  }
  ConvBackwardFilterAny(g, x.data, dy.data, dw.data, nullptr);
  return nullptr;
}

// matmul(a, b, out, [batchA, batchB, M, N, K, transA, transB], bias | null, relu): out[i] = op(a[i]) · op(b[i])
// with a batch of 1 broadcast against the other.
napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 A, B, out, bias;
  std::vector<int64_t> p;
  bool relu = false;
  if (argc < 6 || !GetF32(env, a[0], "a", &A) || !GetF32(env, a[1], "b", &B) || !GetF32(env, a[2], "out", &out) ||
      !GetInts(env, a[3], "matmul geometry", &p) || !GetF32(env, a[4], "bias", &bias, true))
    return nullptr;
  napi_get_value_bool(env, a[5], &relu);
  if (p.size() != 7) {
    Throw(env, "matmul geometry: expected 7 integers");
    return nullptr;
  }
  const int64_t ba = p[0], bb = p[1], M = p[2], N = p[3], K = p[4];
  const bool ta = p[5] != 0, tb = p[6] != 0;
  const int64_t batch = std::max(ba, bb);
  if (A.length < size_t(ba * M * K) || B.length < size_t(bb * K * N) || out.length < size_t(batch * M * N) ||
      (bias.data && bias.length < size_t(N))) {
    Throw(env, "matmul: a buffer is smaller than its geometry");
    return nullptr;
  }
  for (int64_t i = 0; i < batch; i++) {
    const float* ai = A.data + (ba == 1 ? 0 : i) * M * K;
    const float* bi = B.data + (bb == 1 ? 0 : i) * K * N;
    float* oi = out.data + i * M * N;
    // Rows of the output split across threads: row block [m0, m1) of op(A) starts at row m0 of A, or at column
    // m0 of A when transposed (same leading dimension either way).
    const bool split = M * N * K >= (int64_t{1} << 18);
    auto rows = [&](int64_t m0, int64_t m1) {
      g_blas.sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m1 - m0, N, K, 1.f,
                  ai + (ta ? m0 : m0 * K), ta ? M : K, bi, tb ? K : N, 0.f, oi + m0 * N, N);
    };
    if (split) ParallelFor(M, rows); else rows(0, M);
  }
  BiasAct(out.data, batch * M, N, bias.data, relu);
  return nullptr;
}

// maxPoolGrad(x, dy, dx, [n, h, w, c, fh, fw, oh, ow, sh, sw, pt, pl]): each output's gradient goes to the
// first maximum of its window in row-major order (as tfjs' cpu backend picks it); padding never wins.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 x, dy, dx;
  std::vector<int64_t> p;
  if (argc < 4 || !GetF32(env, a[0], "x", &x) || !GetF32(env, a[1], "dy", &dy) || !GetF32(env, a[2], "dx", &dx) ||
      !GetInts(env, a[3], "pool geometry", &p))
    return nullptr;
  if (p.size() != 12) {
    Throw(env, "pool geometry: expected 12 integers");
    return nullptr;
  }
  const int64_t n = p[0], h = p[1], w = p[2], c = p[3], fh = p[4], fw = p[5], oh = p[6], ow = p[7], sh = p[8], sw = p[9],
                pt = p[10], pl = p[11];
  if (x.length < size_t(n * h * w * c) || dx.length < size_t(n * h * w * c) || dy.length < size_t(n * oh * ow * c)) {
    Throw(env, "maxPoolGrad: a buffer is smaller than its geometry");
    return nullptr;
  }
  ParallelFor(n, [&](int64_t b, int64_t e) {
    std::vector<float> best(c);
    std::vector<int64_t> where(c);
    std::memset(dx.data + b * h * w * c, 0, sizeof(float) * size_t((e - b) * h * w * c));
    for (int64_t img = b; img < e; img++) {
      const float* xi = x.data + img * h * w * c;
      float* di = dx.data + img * h * w * c;
      const float* g = dy.data + img * oh * ow * c;
      for (int64_t y = 0; y < oh; y++) {
        for (int64_t xo = 0; xo < ow; xo++, g += c) {
          std::fill(best.begin(), best.end(), -INFINITY);
          std::fill(where.begin(), where.end(), -1);
          for (int64_t i = 0; i < fh; i++) {
            int64_t ih = y * sh - pt + i;
            if (ih < 0 || ih >= h) continue;
            for (int64_t j = 0; j < fw; j++) {
              int64_t iw = xo * sw - pl + j;
              if (iw < 0 || iw >= w) continue;
              const int64_t at = (ih * w + iw) * c;
              const float* px = xi + at;
              for (int64_t ch = 0; ch < c; ch++) {
                if (px[ch] > best[ch]) {
                  best[ch] = px[ch];
                  where[ch] = at + ch;
                }
              }
            }
          }
          for (int64_t ch = 0; ch < c; ch++) {
            if (where[ch] >= 0) di[where[ch]] += g[ch];
          }
        }
      }
    }
  });
  return nullptr;
}

// reduceRows(x, out, rows, cols, scale): out[j] = scale · Σ_i x[i, j] (Sum / Mean over every axis but the last),
// float64 partial sums per thread.
napi_value ReduceRows(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 x, out;
  int64_t rows, cols;
  double scale = 1;
  if (argc < 5 || !GetF32(env, a[0], "x", &x) || !GetF32(env, a[1], "out", &out) || !GetInt(env, a[2], "rows", &rows) ||
      !GetInt(env, a[3], "cols", &cols))
    return nullptr;
  napi_get_value_double(env, a[4], &scale);
  if (x.length < size_t(rows * cols) || out.length < size_t(cols)) {
    Throw(env, "reduceRows: a buffer is smaller than rows × cols");
    return nullptr;
  }
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, rows / 1024 + 1)));
  std::vector<std::vector<double>> part(t, std::vector<double>(cols, 0.0));
  std::vector<std::thread> pool;
  const int64_t per = (rows + t - 1) / t;
  auto work = [&](int k) {
    std::vector<double>& acc = part[k];
    const int64_t b = k * per, e = std::min(rows, b + per);
    // Accumulate blocks of rows in float, then fold into double: vectorisable and still accurate.
    std::vector<float> blk(cols);
    for (int64_t r0 = b; r0 < e; r0 += 64) {
      std::fill(blk.begin(), blk.end(), 0.f);
      const int64_t r1 = std::min(e, r0 + 64);
      for (int64_t r = r0; r < r1; r++) {
        const float* row = x.data + r * cols;
        for (int64_t j = 0; j < cols; j++) blk[j] += row[j];
      }
      for (int64_t j = 0; j < cols; j++) acc[j] += blk[j];
    }
  };
  for (int k = 1; k < t; k++) pool.emplace_back(work, k);
  work(0);
  for (auto& th : pool) th.join();
  for (int64_t j = 0; j < cols; j++) {
    double s = 0;
    for (int k = 0; k < t; k++) s += part[k][j];
    out.data[j] = static_cast<float>(s * scale);
  }
  return nullptr;
}

// binary(op, a, b, out, n, period): out[i] = a[i] op b[i mod period] with period = n (same shape), 1 (scalar)
// or the channel count (a vector along the last axis); `swap` computes b op a for a broadcast `a`.
// op: 0 add, 1 sub, 2 mul, 3 div.
napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 A, B, out;
  int64_t op, n, period;
  bool swap = false;
  if (argc < 7 || !GetInt(env, a[0], "op", &op) || !GetF32(env, a[1], "a", &A) || !GetF32(env, a[2], "b", &B) ||
      !GetF32(env, a[3], "out", &out) || !GetInt(env, a[4], "n", &n) || !GetInt(env, a[5], "period", &period))
    return nullptr;
  napi_get_value_bool(env, a[6], &swap);
  if (period < 1 || n % period != 0 || A.length < size_t(n) || B.length < size_t(period) || out.length < size_t(n) || op < 0 || op > 3) {
    Throw(env, "binary: bad geometry");
    return nullptr;
  }
  const float* x = A.data;
  const float* y = B.data;
  float* o = out.data;
  auto run = [&](int64_t b, int64_t e) {
    // Rows of `period` elements, so the inner loop is a plain vectorisable loop.
    for (int64_t r = b; r < e; r++) {
      const float* xr = x + r * period;
      float* orow = o + r * period;
      if (!swap) {
        switch (op) {
          case 0: for (int64_t j = 0; j < period; j++) orow[j] = xr[j] + y[j]; break;
          case 1: for (int64_t j = 0; j < period; j++) orow[j] = xr[j] - y[j]; break;
          case 2: for (int64_t j = 0; j < period; j++) orow[j] = xr[j] * y[j]; break;
          default: for (int64_t j = 0; j < period; j++) orow[j] = xr[j] / y[j]; break;
        }
      } else {
        switch (op) {
          case 0: for (int64_t j = 0; j < period; j++) orow[j] = y[j] + xr[j]; break;
          case 1: for (int64_t j = 0; j < period; j++) orow[j] = y[j] - xr[j]; break;
          case 2: for (int64_t j = 0; j < period; j++) orow[j] = y[j] * xr[j]; break;
          default: for (int64_t j = 0; j < period; j++) orow[j] = y[j] / xr[j]; break;
        }
      }
    }
  };
  const int64_t rows = n / period;
  if (period == n && n >= (1 << 16)) {
    // Same shapes: one "row", so split it by elements instead.
    ParallelFor(n, [&](int64_t b, int64_t e) {
      const float* xs = x + b;
      const float* ys = y + b;
      float* os = o + b;
      const int64_t len = e - b;
      if (op == 0) for (int64_t i = 0; i < len; i++) os[i] = xs[i] + ys[i];
      else if (op == 2) for (int64_t i = 0; i < len; i++) os[i] = xs[i] * ys[i];
      else if (op == 1 && !swap) for (int64_t i = 0; i < len; i++) os[i] = xs[i] - ys[i];
      else if (op == 1) for (int64_t i = 0; i < len; i++) os[i] = ys[i] - xs[i];
      else if (!swap) for (int64_t i = 0; i < len; i++) os[i] = xs[i] / ys[i];
      else for (int64_t i = 0; i < len; i++) os[i] = ys[i] / xs[i];
    });
    return nullptr;
  }
  if (period == 1 || n < (1 << 16)) {
    if (period == 1) {
      // Scalar broadcast: one vectorisable loop per operation (no per-element dispatch).
      const float sc = y[0];
      auto runScalar = [&](int64_t b, int64_t e) {
        const float* xs = x + b;
        float* os = o + b;
        const int64_t len = e - b;
        if (op == 0) for (int64_t i = 0; i < len; i++) os[i] = xs[i] + sc;
        else if (op == 2) for (int64_t i = 0; i < len; i++) os[i] = xs[i] * sc;
        else if (op == 1 && !swap) for (int64_t i = 0; i < len; i++) os[i] = xs[i] - sc;
        else if (op == 1) for (int64_t i = 0; i < len; i++) os[i] = sc - xs[i];
        else if (!swap) for (int64_t i = 0; i < len; i++) os[i] = xs[i] / sc;
        else for (int64_t i = 0; i < len; i++) os[i] = sc / xs[i];
      };
      if (n < (1 << 16)) runScalar(0, n); else ParallelFor(n, runScalar);
    } else {
      run(0, rows);
    }
  } else {
    ParallelFor(rows, run);
  }
  return nullptr;
}

// batchNorm(x, mean, variance, offset | null, scale | null, out, channels, epsilon): inference-style
// normalisation with per-channel statistics, as tfjs' FusedBatchNorm kernel.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  F32 x, mean, var, offset, scale, out;
  int64_t c;
  double eps = 0;
  if (argc < 8 || !GetF32(env, a[0], "x", &x) || !GetF32(env, a[1], "mean", &mean) || !GetF32(env, a[2], "variance", &var) ||
      !GetF32(env, a[3], "offset", &offset, true) || !GetF32(env, a[4], "scale", &scale, true) || !GetF32(env, a[5], "out", &out) ||
      !GetInt(env, a[6], "channels", &c))
    return nullptr;
  napi_get_value_double(env, a[7], &eps);
  if (c < 1 || x.length % size_t(c) != 0 || out.length < x.length || mean.length < size_t(c) || var.length < size_t(c) ||
      (offset.data && offset.length < size_t(c)) || (scale.data && scale.length < size_t(c))) {
    Throw(env, "batchNorm: bad geometry");
    return nullptr;
  }
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    const float inv = 1.f / std::sqrt(var.data[j] + static_cast<float>(eps));
    mul[j] = inv * (scale.data ? scale.data[j] : 1.f);
    add[j] = (offset.data ? offset.data[j] : 0.f) - mean.data[j] * mul[j];
  }
  const int64_t rows = int64_t(x.length) / c;
  ParallelFor(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* xr = x.data + r * c;
      float* o = out.data + r * c;
      for (int64_t j = 0; j < c; j++) o[j] = xr[j] * mul[j] + add[j];
    }
  });
  return nullptr;
}

// setThreads(n): worker threads for the kernels (OpenBLAS itself stays single-threaded per call).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  int64_t n;
  if (argc < 1 || !GetInt(env, a[0], "threads", &n)) return nullptr;
  g_threads = static_cast<int>(std::max<int64_t>(1, n));
  cnnwb::DnnlSetThreads(g_threads);
  // Parallelism is ours (ForImageRanges / ParallelFor); every SGEMM runs single-threaded on its caller.
  g_blas.setThreads(1);
  return nullptr;
}

// ---- the fused training step (trainer.h): one native call per batch

bool GetDoubles(napi_env env, napi_value v, const char* name, std::vector<double>* out) { return GetNumbers(env, v, name, out); }

// The JS handle owns a holder, so trainerDispose can free the trainer's buffers (~160 MB for the lesson CNN at
// batch 128) at once rather than whenever V8 collects the tiny handle; the finalizer frees what is left.
struct TrainerHolder {
  cnnwb::Trainer* trainer = nullptr;
};

bool GetTrainer(napi_env env, napi_value v, cnnwb::Trainer** t) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) return Throw(env, "expected a trainer handle");
  *t = static_cast<TrainerHolder*>(p)->trainer;
  if (!*t) return Throw(env, "this trainer was disposed");
  return true;
}

// trainerDispose(handle): frees the trainer now; later calls with the handle throw.
napi_value TrainerDispose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  void* p = nullptr;
  if (argc < 1 || napi_get_value_external(env, a[0], &p) != napi_ok || !p) return Throw(env, "expected a trainer handle"), nullptr;
  auto* holder = static_cast<TrainerHolder*>(p);
  delete holder->trainer;
  holder->trainer = nullptr;
  return nullptr;
}

// trainerCreate(layers: number[][], input: [h, w, c], maxBatch, optimizer: [kind, a, b, eps], seed) → handle
napi_value TrainerCreate(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  if (argc < 5) return Throw(env, "trainerCreate: expected 5 arguments"), nullptr;
  bool isArray = false;
  napi_is_array(env, a[0], &isArray);
  if (!isArray) return Throw(env, "trainerCreate: layers must be an array"), nullptr;
  uint32_t count;
  napi_get_array_length(env, a[0], &count);
  std::vector<std::vector<double>> layers(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    napi_get_element(env, a[0], i, &e);
    if (!GetDoubles(env, e, "layer", &layers[i])) return nullptr;
  }
  std::vector<int64_t> input;
  std::vector<double> optimizer;
  int64_t maxBatch, seed;
  if (!GetInts(env, a[1], "input", &input) || !GetInt(env, a[2], "maxBatch", &maxBatch) || !GetDoubles(env, a[3], "optimizer", &optimizer) ||
      !GetInt(env, a[4], "seed", &seed))
    return nullptr;
  if (input.size() != 3 || maxBatch < 1) return Throw(env, "trainerCreate: input must be [h, w, c] and maxBatch ≥ 1"), nullptr;
  cnnwb::Trainer* t = nullptr;
  try {
    t = new cnnwb::Trainer(layers, input[0], input[1], input[2], maxBatch, optimizer, uint64_t(seed), g_threads, g_blas.sgemm);
  } catch (const std::exception& e) {
    return Throw(env, std::string("trainerCreate: ") + e.what()), nullptr;
  }
  napi_value handle;
  auto* holder = new TrainerHolder{t};
  napi_create_external(
      env, holder,
      [](napi_env, void* data, void*) {
        auto* h = static_cast<TrainerHolder*>(data);
        delete h->trainer;
        delete h;
      },
      nullptr, &handle);
  return handle;
}

// trainerLayout(handle) → per layer { shape: [h, w, c], params: [sizes] }
napi_value TrainerLayout(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  cnnwb::Trainer* t;
  if (argc < 1 || !GetTrainer(env, a[0], &t)) return nullptr;
  napi_value list;
  napi_create_array_with_length(env, t->NumLayers(), &list);
  for (size_t i = 0; i < t->NumLayers(); i++) {
    napi_value o, shape, params;
    napi_create_object(env, &o);
    std::vector<int64_t> s = t->OutputShape(i);
    napi_create_array_with_length(env, 3, &shape);
    for (uint32_t k = 0; k < 3; k++) {
      napi_value v;
      napi_create_int64(env, s[k], &v);
      napi_set_element(env, shape, k, v);
    }
    napi_create_array_with_length(env, t->NumParams(i), &params);
    for (size_t k = 0; k < t->NumParams(i); k++) {
      napi_value v;
      napi_create_int64(env, int64_t(t->ParamValue(i, k).size()), &v);
      napi_set_element(env, params, uint32_t(k), v);
    }
    napi_set_named_property(env, o, "shape", shape);
    napi_set_named_property(env, o, "params", params);
    napi_set_element(env, list, uint32_t(i), o);
  }
  return list;
}

// trainerParam(handle, layer, param, data, write, slot = 0): copies data into the trainer (write) or out of it;
// slot 0 is the value, 1 and 2 the optimizer's slots (for checkpoints; a non-trainable param has none).
napi_value TrainerParam(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  cnnwb::Trainer* t;
  int64_t layer, param, slot = 0;
  F32 data;
  bool write = false;
  if (argc < 5 || !GetTrainer(env, a[0], &t) || !GetInt(env, a[1], "layer", &layer) || !GetInt(env, a[2], "param", &param) ||
      !GetF32(env, a[3], "data", &data))
    return nullptr;
  if (argc >= 6 && !GetInt(env, a[5], "slot", &slot)) return nullptr;
  napi_get_value_bool(env, a[4], &write);
  if (layer < 0 || size_t(layer) >= t->NumLayers() || param < 0 || size_t(param) >= t->NumParams(size_t(layer)))
    return Throw(env, "trainerParam: no such layer/param"), nullptr;
  if (slot < 0 || slot > 2) return Throw(env, "trainerParam: slot must be 0, 1 or 2"), nullptr;
  std::vector<float>& w = t->ParamSlot(size_t(layer), size_t(param), int(slot));
  if (data.length != w.size())
    return Throw(env, "trainerParam: layer " + std::to_string(layer) + " param " + std::to_string(param) + " slot " + std::to_string(slot) +
                          " has " + std::to_string(w.size()) + " values, received " + std::to_string(data.length)),
           nullptr;
  if (w.empty()) return nullptr;
  if (write) std::memcpy(w.data(), data.data, sizeof(float) * w.size());
  else std::memcpy(data.data, w.data(), sizeof(float) * w.size());
  return nullptr;
}

// trainerCounters(handle, set?: [steps, dropoutCalls]) → [steps, dropoutCalls] (before any set)
napi_value TrainerCounters(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  cnnwb::Trainer* t;
  if (argc < 1 || !GetTrainer(env, a[0], &t)) return nullptr;
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int64(env, t->Steps(), &v);
  napi_set_element(env, out, 0, v);
  napi_create_int64(env, t->DropoutCalls(), &v);
  napi_set_element(env, out, 1, v);
  napi_valuetype type = napi_undefined;
  if (argc >= 2) napi_typeof(env, a[1], &type);
  if (type != napi_undefined && type != napi_null) {
    std::vector<int64_t> c;
    if (!GetInts(env, a[1], "counters", &c)) return nullptr;
    if (c.size() != 2 || c[0] < 0 || c[1] < 0) return Throw(env, "trainerCounters: expected [steps, dropoutCalls], both >= 0"), nullptr;
    t->SetCounters(c[0], c[1]);
  }
  return out;
}

// trainerStep(handle, x: Float32Array, labels: Int32Array, n, lr) → [loss, accuracy, finite (1/0)]
napi_value TrainerStep(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  cnnwb::Trainer* t;
  F32 x;
  int64_t n;
  double lr;
  if (argc < 5 || !GetTrainer(env, a[0], &t) || !GetF32(env, a[1], "x", &x) || !GetInt(env, a[3], "n", &n)) return nullptr;
  if (napi_get_value_double(env, a[4], &lr) != napi_ok) return Throw(env, "lr: expected a number"), nullptr;
  bool typed = false;
  napi_is_typedarray(env, a[2], &typed);
  napi_typedarray_type type;
  size_t length = 0;
  void* labels = nullptr;
  if (typed) napi_get_typedarray_info(env, a[2], &type, &length, &labels, nullptr, nullptr);
  if (!typed || type != napi_int32_array) return Throw(env, "labels: expected an Int32Array"), nullptr;
  if (n < 1 || length < size_t(n)) return Throw(env, "trainerStep: fewer labels than images"), nullptr;
  cnnwb::StepResult r;
  try {
    if (x.length < size_t(n * t->InputSize())) throw std::runtime_error("x holds fewer than n images");
    r = t->Step(x.data, static_cast<const int32_t*>(labels), n, lr);
  } catch (const std::exception& e) {
    return Throw(env, std::string("trainerStep: ") + e.what()), nullptr;
  }
  napi_value out, v;
  napi_create_array_with_length(env, 3, &out);
  napi_create_double(env, r.loss, &v);
  napi_set_element(env, out, 0, v);
  napi_create_double(env, r.accuracy, &v);
  napi_set_element(env, out, 1, v);
  napi_create_double(env, r.finite ? 1 : 0, &v);
  napi_set_element(env, out, 2, v);
  return out;
}

// useOneDnn(on): oneDNN convolutions when built with them (the default), or the im2col + OpenBLAS path (tests).
napi_value UseOneDnn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, nullptr, nullptr);
  bool on = true;
  if (argc >= 1) napi_get_value_bool(env, a[0], &on);
  cnnwb::DnnlEnable(on);
  return nullptr;
}

// info(): { blas: "OpenBLAS <config>", core: "<kernel set>", threads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value o, s, c, t;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, g_blas.config(), NAPI_AUTO_LENGTH, &s);
  napi_create_string_utf8(env, g_blas.corename(), NAPI_AUTO_LENGTH, &c);
  napi_create_int32(env, g_threads, &t);
  napi_set_named_property(env, o, "blas", s);
  napi_set_named_property(env, o, "core", c);
  napi_set_named_property(env, o, "threads", t);
  napi_value by;
  napi_create_string_utf8(env, g_blas.coreChosenBy.c_str(), NAPI_AUTO_LENGTH, &by);
  napi_set_named_property(env, o, "coreChosenBy", by);
  napi_value dnnl;
  const std::string dnnlInfo = cnnwb::DnnlEnabled() ? cnnwb::DnnlInfo() : "";
  napi_create_string_utf8(env, dnnlInfo.c_str(), NAPI_AUTO_LENGTH, &dnnl);
  napi_set_named_property(env, o, "convolutions", dnnl);
  return o;
}

napi_value Init(napi_env env, napi_value exports) {
  static std::string blasError = LoadBlas();
  if (!blasError.empty()) {
    napi_throw_error(env, "CNNWB_NATIVE", blasError.c_str());
    return nullptr;
  }
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2DBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2DBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceRows", nullptr, ReduceRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerCreate", nullptr, TrainerCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerLayout", nullptr, TrainerLayout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerParam", nullptr, TrainerParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerDispose", nullptr, TrainerDispose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, TrainerStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerCounters", nullptr, TrainerCounters, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"useOneDnn", nullptr, UseOneDnn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  g_threads = 1;
  g_blas.setThreads(1);
  return exports;
}

}  // namespace

namespace cnnwb {
void ConvForward(const Conv& g, const float* x, const float* w, const float* bias, float* y, bool relu) { ConvForwardAny(g, x, w, bias, y, relu); }
void ConvBackwardData(const Conv& g, const float* dy, const float* w, float* dx) { ConvBackwardDataAny(g, dy, w, dx); }
void ConvBackwardFilter(const Conv& g, const float* x, const float* dy, float* dw, float* dbias) { ConvBackwardFilterAny(g, x, dy, dw, dbias); }
}  // namespace cnnwb

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
