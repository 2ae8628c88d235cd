// CNN Workbench native kernels: the hot training ops (convolution forward and both backprops, matrix
// products) as oneDNN or im2col + OpenBLAS SGEMM, called synchronously from tfjs kernels on the wasm backend,
// and the fused training step (trainer.h).
//
// Every tensor argument is a Float32Array view (usually straight onto the wasm heap: no copies). Nothing that
// comes from JS is trusted: every count, shape, stride, dilation, padding and pool size is checked (an integer,
// its sign, products without overflow, agreement with the other sizes and with the buffers' lengths) before any
// loop runs, and every C++ exception — a refused argument, std::bad_alloc, a oneDNN error, a worker thread's
// failure — becomes a JS Error naming the function. A bad call throws; it never corrupts memory or ends the process.
#include <node_api.h>

#include "augment.h"
#include "conv.h"
#include "trainer.h"
#include <cblas.h>
#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
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

// Threads the kernels may use (setThreads); the JS thread that calls in is always one of them.
int g_threads = 1;

// ---- the boundary: arguments from JS, checked before use

// A refused argument. Its message already names the function and the field.
struct BadCall : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The most elements any tensor or scratch buffer may have: every GEMM dimension then fits OpenBLAS' 32-bit
// blasint, and an int32 offset reaches any element (MaxPool's argmax). tfjs' wasm heap holds at most 2^30 floats.
constexpr int64_t kMaxElems = INT32_MAX;
// Integers from JS are doubles: beyond 2^53 they are no longer exact.
constexpr double kMaxSafeInt = 9007199254740992.0;

// Runs a N-API function body, turning every C++ exception into a JS Error that names the function.
template <typename F>
napi_value Guard(napi_env env, const char* fn, F body) {
  std::string msg;
  try {
    return body();
  } catch (const BadCall& e) {
    msg = e.what();
  } catch (const std::bad_alloc&) {
    msg = std::string(fn) + ": out of memory";
  } catch (const std::exception& e) {
    msg = std::string(fn) + ": " + e.what();
  } catch (...) {
    msg = std::string(fn) + ": unexpected native error";
  }
  napi_throw_error(env, "CNNWB_NATIVE", msg.c_str());
  return nullptr;
}

// One call's arguments, read with their checks; every failure throws BadCall "<fn>: <field>: <why>".
class Call {
 public:
  Call(napi_env env, napi_callback_info info, const char* fn, size_t want) : env_(env), fn_(fn) {
    size_t argc = kMax;
    napi_get_cb_info(env, info, &argc, argv_, nullptr, nullptr);
    if (argc < want) Fail("expected " + std::to_string(want) + " arguments, received " + std::to_string(argc));
  }

  [[noreturn]] void Fail(const std::string& why) const { throw BadCall(std::string(fn_) + ": " + why); }
  napi_env env() const { return env_; }
  napi_value arg(size_t i) const { return argv_[i]; }

  F32 Floats(size_t i, const char* name, bool allowNull = false) const {
    napi_valuetype t = napi_undefined;
    napi_typeof(env_, argv_[i], &t);
    if (allowNull && (t == napi_null || t == napi_undefined)) return F32{};
    bool typed = false;
    napi_is_typedarray(env_, argv_[i], &typed);
    napi_typedarray_type type = napi_int8_array;
    size_t length = 0;
    void* data = nullptr;
    if (typed) napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr);
    if (!typed || type != napi_float32_array) Fail(std::string(name) + ": expected a Float32Array" + (allowNull ? " or null" : ""));
    return F32{static_cast<float*>(data), length};
  }

  double Number(napi_value v, const std::string& name) const {
    double d = 0;
    if (napi_get_value_double(env_, v, &d) != napi_ok) Fail(name + ": expected a number");
    if (!std::isfinite(d)) Fail(name + ": expected a finite number, got " + std::to_string(d));
    return d;
  }
  double Number(size_t i, const char* name) const { return Number(argv_[i], name); }

  // An integer in [lo, hi]. (napi_get_value_int64 would truncate 2.5 to 2 and turn NaN into 0.)
  int64_t Integer(napi_value v, const std::string& name, int64_t lo, int64_t hi) const {
    double d = 0;
    if (napi_get_value_double(env_, v, &d) != napi_ok) Fail(name + ": expected an integer");
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > kMaxSafeInt) Fail(name + ": expected an integer, got " + Show(d));
    const int64_t k = int64_t(d);
    if (k < lo || k > hi) Fail(name + ": " + std::to_string(k) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return k;
  }
  int64_t Integer(size_t i, const char* name, int64_t lo, int64_t hi) const { return Integer(argv_[i], name, lo, hi); }

  bool Bool(size_t i, const char* name) const {
    bool b = false;
    if (napi_get_value_bool(env_, argv_[i], &b) != napi_ok) Fail(std::string(name) + ": expected true or false");
    return b;
  }

  // A JS array of exactly `count` numbers (any count when `count` is 0).
  std::vector<double> Numbers(napi_value v, const std::string& name, size_t count = 0) const {
    bool isArray = false;
    napi_is_array(env_, v, &isArray);
    if (!isArray) Fail(name + ": expected an array of numbers");
    uint32_t n = 0;
    napi_get_array_length(env_, v, &n);
    if (count && n != count) Fail(name + ": expected " + std::to_string(count) + " numbers, received " + std::to_string(n));
    std::vector<double> out(n);
    for (uint32_t k = 0; k < n; k++) {
      napi_value e;
      if (napi_get_element(env_, v, k, &e) != napi_ok) Fail(name + ": cannot read element " + std::to_string(k));
      out[k] = Number(e, name + "[" + std::to_string(k) + "]");
    }
    return out;
  }

  // `count` integers, each in [lo, hi], named for the messages.
  std::vector<int64_t> Integers(size_t i, const char* name, const std::vector<const char*>& fields, int64_t lo, int64_t hi) const {
    const std::vector<double> d = Numbers(argv_[i], name, fields.size());
    std::vector<int64_t> out(d.size());
    for (size_t k = 0; k < d.size(); k++) {
      if (d[k] != std::floor(d[k]) || std::fabs(d[k]) > kMaxSafeInt) Fail(std::string(name) + ": " + fields[k] + ": expected an integer, got " + Show(d[k]));
      out[k] = int64_t(d[k]);
      if (out[k] < lo || out[k] > hi)
        Fail(std::string(name) + ": " + fields[k] + " " + std::to_string(out[k]) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return out;
  }

  // The product of `dims` (each ≥ 0) as an element count, refused above kMaxElems; `what` names the tensor.
  int64_t Elems(const char* what, std::initializer_list<int64_t> dims) const {
    int64_t p = 1;
    bool over = false;
    for (int64_t d : dims) {
      if (d < 0) Fail(std::string(what) + ": negative size " + std::to_string(d));
      if (d != 0 && p > kMaxElems / d) over = true;
      else p *= d;
    }
    if (over) Fail(std::string(what) + ": more than 2^31 - 1 elements");
    return p;
  }

  // A buffer must hold at least `need` floats.
  void Holds(const F32& b, const char* name, int64_t need) const {
    if (b.length < size_t(need))
      Fail(std::string(name) + ": " + std::to_string(b.length) + " floats, the geometry needs " + std::to_string(need));
  }

 private:
  static std::string Show(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
  }
  static constexpr size_t kMax = 8;
  napi_env env_;
  const char* fn_;
  napi_value argv_[kMax] = {};
};

napi_value Undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// A window along one axis (convolution or pooling): `out` windows of `k` taps `d` apart, `s` apart, with `before`
// rows of padding in front. The output size must be what tfjs computes for some padding: the front padding
// shorter than the window, and the implied back padding between "drops fewer than a stride" ('valid') and
// "shorter than window + stride" (ceil rounding). Every size is ≥ 1 and ≤ kMaxElems here, so nothing overflows.
void CheckWindow(const Call& c, const char* axis, int64_t in, int64_t k, int64_t s, int64_t d, int64_t before, int64_t out) {
  const int64_t eff = (k - 1) * d + 1;
  if (eff > kMaxElems) c.Fail(std::string("geometry: the dilated ") + axis + " window is larger than 2^31 - 1");
  const int64_t after = (out - 1) * s + eff - in - before;
  if (before >= eff || after < -(s - 1) || after > eff + s - 2)
    c.Fail(std::string("geometry: output ") + axis + " " + std::to_string(out) + " does not follow from input " + axis + " " +
           std::to_string(in) + ", window " + std::to_string(k) + " (dilation " + std::to_string(d) + "), stride " + std::to_string(s) +
           " and padding " + std::to_string(before));
}

using cnnwb::Conv;

// [n, h, w, c, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pl], as tfjs' Conv2DInfo: sizes, strides and dilations ≥ 1,
// paddings ≥ 0, output sizes consistent with the rest, and every tensor (and one image's im2col columns) countable.
Conv GetConv(const Call& c, size_t i) {
  const std::vector<int64_t> p = c.Integers(
      i, "geometry",
      {"batch", "height", "width", "channels", "kernel height", "kernel width", "filters", "output height", "output width",
       "stride height", "stride width", "dilation height", "dilation width", "padding top", "padding left"},
      0, kMaxElems);
  static const char* names[] = {"batch", "height", "width", "channels", "kernel height", "kernel width", "filters",
                                "output height", "output width", "stride height", "stride width", "dilation height", "dilation width"};
  for (int k = 0; k < 13; k++)
    if (p[k] < 1) c.Fail(std::string("geometry: ") + names[k] + " must be ≥ 1, got " + std::to_string(p[k]));
  const Conv g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
  CheckWindow(c, "height", g.h, g.kh, g.sh, g.dh, g.pt, g.oh);
  CheckWindow(c, "width", g.w, g.kw, g.sw, g.dw, g.pl, g.ow);
  c.Elems("input", {g.n, g.h, g.w, g.c});
  c.Elems("filter", {g.kh, g.kw, g.c, g.oc});
  c.Elems("output", {g.n, g.oh, g.ow, g.oc});
  c.Elems("one image's im2col columns", {g.oh, g.ow, g.kh, g.kw, g.c});
  return g;
}

// ---- threads

// Runs fn(worker, begin, end) over [0, n) split into `t` contiguous ranges, in parallel (the caller's thread
// takes the first). An exception in any range is rethrown here after every thread has joined (one escaping a
// std::thread would end the process); a thread that cannot be started runs its range on the caller's thread.
template <typename Fn>
void RunRanges(int t, int64_t n, Fn fn) {
  if (t <= 1 || n <= 1) {
    fn(0, int64_t{0}, n);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(t));
  auto guarded = [&](int worker, int64_t b, int64_t e) {
    try {
      fn(worker, b, e);
    } catch (...) {
      errors[size_t(worker)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(size_t(t));
  const int64_t per = (n + t - 1) / t;
  for (int i = 1; i < t; i++) {
    const int64_t b = i * per, e = std::min(n, b + per);
    if (b >= e) continue;
    try {
      pool.emplace_back(guarded, i, b, e);
    } catch (const std::system_error&) {
      guarded(i, b, e);
    }
  }
  guarded(0, 0, std::min(n, per));
  for (auto& th : pool) th.join();
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
}

// Runs fn(begin, end) over [0, n) on up to g_threads threads.
template <typename Fn>
void ParallelFor(int64_t n, Fn fn) {
  RunRanges(int(std::min<int64_t>(g_threads, std::max<int64_t>(1, n))), n, [&](int, int64_t b, int64_t e) { fn(b, e); });
}

// ---- convolutions and matrix products

// cols[r, (i*kw + j)*c + ch] = x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, ch] for images [n0, n1), zero in padding.
void Im2col(const Conv& g, const float* x, int64_t n0, int64_t n1, float* cols) {
  const int64_t K = g.K();
  for (int64_t row = 0; row < (n1 - n0) * g.oh; row++) {
    const int64_t n = n0 + row / g.oh, y = row % g.oh;
    float* dst = cols + row * g.ow * K;
    for (int64_t xo = 0; xo < g.ow; xo++, dst += K) {
      for (int64_t i = 0; i < g.kh; i++) {
        const int64_t ih = y * g.sh - g.pt + i * g.dh;
        for (int64_t j = 0; j < g.kw; j++) {
          float* d = dst + (i * g.kw + j) * g.c;
          const int64_t iw = xo * g.sw - g.pl + j * g.dw;
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

// dx[n, ih, iw, ch] += cols[r, tap*c + ch] for images [n0, n1): the adjoint of Im2col.
void Col2im(const Conv& g, const float* cols, int64_t n0, int64_t n1, float* dx) {
  const int64_t K = g.K(), P = g.pixels();
  for (int64_t k = 0; k < n1 - n0; k++) {
    const int64_t n = n0 + k;
    const float* src = cols + k * P * K;
    for (int64_t y = 0; y < g.oh; y++) {
      for (int64_t xo = 0; xo < g.ow; xo++, src += K) {
        for (int64_t i = 0; i < g.kh; i++) {
          const int64_t ih = y * g.sh - g.pt + i * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          for (int64_t j = 0; j < g.kw; j++) {
            const int64_t iw = xo * g.sw - g.pl + j * g.dw;
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

// Images per im2col chunk: the column buffer stays near 16 MB, and the GEMM stays large.
int64_t ChunkImages(const Conv& g) {
  const int64_t perImage = g.pixels() * g.K();
  return std::max<int64_t>(1, std::min<int64_t>(g.n, (int64_t{4} << 20) / std::max<int64_t>(1, perImage)));
}

// One im2col buffer per worker thread (workers are short-lived, so thread_local would not be reused).
std::vector<std::vector<float>> g_colsPerWorker;

float* Cols(int worker, size_t n) {
  std::vector<float>& b = g_colsPerWorker.at(size_t(worker));
  if (b.size() < n) b.resize(n);
  return b.data();
}

// Splits images [0, n) into one contiguous range per thread and runs fn(worker, n0, n1) on each, in parallel.
// Each worker runs single-threaded SGEMMs on its own images: one join per op instead of a barrier inside every
// GEMM, which matters when the cores are shared, and the small-N GEMMs of a CNN parallelise poorly inside BLAS.
template <typename Fn>
void ForImageRanges(int64_t n, Fn fn) {
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, n)));
  // Sized here, on the caller's thread: workers only grow their own buffer.
  if (g_colsPerWorker.size() < size_t(t)) g_colsPerWorker.resize(size_t(t));
  RunRanges(t, n, fn);
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
        const int64_t n1 = std::min(e, n0 + chunk);
        Im2col(g, x, n0, n1, cols);
        g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (n1 - n0) * P, g.oc, K, 1.f, cols, K, w, g.oc, 0.f,
                     out + n0 * P * g.oc, g.oc);
      }
    }
  });
  BiasAct(out, g.n * P, g.oc, bias, relu);
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
      const int64_t n1 = std::min(e, n0 + chunk);
      g_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (n1 - n0) * P, K, g.oc, 1.f, dy + n0 * P * g.oc, g.oc, w,
                   g.oc, 0.f, cols, K);
      Col2im(g, cols, n0, n1, dx);
    }
  });
}

// dw (and dbias = Σ dy when asked) of a convolution by oneDNN when it takes the geometry, else im2col + SGEMM.
void ConvBackwardFilterAny(const Conv& g, const float* x, const float* dy, float* dw, float* dbias) {
  if (cnnwb::DnnlConvBackwardFilter(g, x, dy, dw, dbias)) return;
  const int64_t K = g.K(), P = g.pixels();
  // Each worker accumulates its own partial dW over its images; the partials are summed at the end.
  const int64_t chunk = ChunkImages(g);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, g.n)));
  std::vector<std::vector<float>> partial(static_cast<size_t>(workers - 1), std::vector<float>(static_cast<size_t>(K * g.oc)));
  ForImageRanges(g.n, [&](int worker, int64_t b, int64_t e) {
    float* acc = worker == 0 ? dw : partial[size_t(worker - 1)].data();
    if (g.pointwise()) {
      g_blas.sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.oc, (e - b) * P, 1.f, x + b * P * K, K, dy + b * P * g.oc,
                   g.oc, 0.f, acc, g.oc);
      return;
    }
    float* cols = Cols(worker, size_t(chunk * P * K));
    for (int64_t n0 = b; n0 < e; n0 += chunk) {
      const int64_t n1 = std::min(e, n0 + chunk);
      Im2col(g, x, n0, n1, cols);
      g_blas.sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.oc, (n1 - n0) * P, 1.f, cols, K, dy + n0 * P * g.oc, g.oc,
                   n0 == b ? 0.f : 1.f, acc, g.oc);
    }
  });
  for (const auto& p : partial) {
    for (int64_t i = 0; i < K * g.oc; i++) dw[i] += p[size_t(i)];
  }
  if (dbias) {
    std::fill(dbias, dbias + g.oc, 0.f);
    for (int64_t r = 0; r < g.n * P; r++)
      for (int64_t j = 0; j < g.oc; j++) dbias[j] += dy[r * g.oc + j];
  }
}

// out[i] = x[i] op y[i mod period] (b op a when `swap`), op: 0 add, 1 sub, 2 mul, 3 div; sizes checked by the caller.
void BinaryKernel(int op, const float* x, const float* y, float* o, int64_t n, int64_t period, bool swap) {
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
    return;
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
}

// ---- the tfjs kernels' entry points

// conv2d(x, w, bias | null, out, geometry, relu)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  return Guard(env, "conv2d", [&] {
    Call c(env, info, "conv2d", 6);
    const F32 x = c.Floats(0, "x"), w = c.Floats(1, "filter"), bias = c.Floats(2, "bias", true), out = c.Floats(3, "out");
    const Conv g = GetConv(c, 4);
    const bool relu = c.Bool(5, "relu");
    c.Holds(x, "x", g.n * g.h * g.w * g.c);
    c.Holds(w, "filter", g.K() * g.oc);
    c.Holds(out, "out", g.n * g.pixels() * g.oc);
    if (bias.data) c.Holds(bias, "bias", g.oc);
    ConvForwardAny(g, x.data, w.data, bias.data, out.data, relu);
    return Undefined(env);
  });
}

// conv2dBackpropInput(dy, w, dx, geometry): dx = col2im(dy · wᵀ)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  return Guard(env, "conv2dBackpropInput", [&] {
    Call c(env, info, "conv2dBackpropInput", 4);
    const F32 dy = c.Floats(0, "dy"), w = c.Floats(1, "filter"), dx = c.Floats(2, "dx");
    const Conv g = GetConv(c, 3);
    c.Holds(dy, "dy", g.n * g.pixels() * g.oc);
    c.Holds(w, "filter", g.K() * g.oc);
    c.Holds(dx, "dx", g.n * g.h * g.w * g.c);
    ConvBackwardDataAny(g, dy.data, w.data, dx.data);
    return Undefined(env);
  });
}

// conv2dBackpropFilter(x, dy, dw, geometry): dw = im2col(x)ᵀ · dy
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return Guard(env, "conv2dBackpropFilter", [&] {
    Call c(env, info, "conv2dBackpropFilter", 4);
    const F32 x = c.Floats(0, "x"), dy = c.Floats(1, "dy"), dw = c.Floats(2, "dw");
    const Conv g = GetConv(c, 3);
    c.Holds(x, "x", g.n * g.h * g.w * g.c);
    c.Holds(dy, "dy", g.n * g.pixels() * g.oc);
    c.Holds(dw, "dw", g.K() * g.oc);
    ConvBackwardFilterAny(g, x.data, dy.data, dw.data, nullptr);
    return Undefined(env);
  });
}

// matmul(a, b, out, [batchA, batchB, M, N, K, transA, transB], bias | null, relu): out[i] = op(a[i]) · op(b[i]),
// a batch of 1 broadcast against the other; otherwise both batches must be equal. K may be 0.
napi_value MatMul(napi_env env, napi_callback_info info) {
  return Guard(env, "matmul", [&] {
    Call c(env, info, "matmul", 6);
    const F32 A = c.Floats(0, "a"), B = c.Floats(1, "b"), out = c.Floats(2, "out");
    const std::vector<int64_t> p =
        c.Integers(3, "geometry", {"batch of a", "batch of b", "M", "N", "K", "transpose a", "transpose b"}, 0, kMaxElems);
    const F32 bias = c.Floats(4, "bias", true);
    const bool relu = c.Bool(5, "relu");
    const int64_t ba = p[0], bb = p[1], M = p[2], N = p[3], K = p[4];
    static const char* names[] = {"batch of a", "batch of b", "M", "N"};
    for (int k = 0; k < 4; k++)
      if (p[k] < 1) c.Fail(std::string("geometry: ") + names[k] + " must be ≥ 1, got " + std::to_string(p[k]));
    if (p[5] > 1 || p[6] > 1) c.Fail("geometry: transpose flags must be 0 or 1");
    if (ba != bb && ba != 1 && bb != 1)
      c.Fail("geometry: batches " + std::to_string(ba) + " and " + std::to_string(bb) + " do not broadcast (equal, or one of them 1)");
    const bool ta = p[5] != 0, tb = p[6] != 0;
    const int64_t batch = std::max(ba, bb);
    const int64_t na = c.Elems("a", {ba, M, K}), nb = c.Elems("b", {bb, K, N}), nout = c.Elems("out", {batch, M, N});
    c.Holds(A, "a", na);
    c.Holds(B, "b", nb);
    c.Holds(out, "out", nout);
    if (bias.data) c.Holds(bias, "bias", N);
    // K = 0 (an empty sum): zeros, which SGEMM would refuse to write (its leading dimensions must be ≥ 1).
    if (K == 0) std::fill(out.data, out.data + nout, 0.f);
    for (int64_t i = 0; i < batch && K > 0; i++) {
      const float* ai = A.data + (ba == 1 ? 0 : i) * M * K;
      const float* bi = B.data + (bb == 1 ? 0 : i) * K * N;
      float* oi = out.data + i * M * N;
      // Rows of the output split across threads: row block [m0, m1) of op(A) starts at row m0 of A, or at column
      // m0 of A when transposed (same leading dimension either way).
      const bool split = M * N * K >= (int64_t{1} << 18);  // ≤ 2^47: each pair of M, N, K was counted above
      auto rows = [&](int64_t m0, int64_t m1) {
        g_blas.sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m1 - m0, N, K, 1.f,
                     ai + (ta ? m0 : m0 * K), ta ? M : K, bi, tb ? K : N, 0.f, oi + m0 * N, N);
      };
      if (split) ParallelFor(M, rows);
      else rows(0, M);
    }
    BiasAct(out.data, batch * M, N, bias.data, relu);
    return Undefined(env);
  });
}

// maxPoolGrad(x, dy, dx, [n, h, w, c, fh, fw, oh, ow, sh, sw, pt, pl]): each output's gradient goes to the
// first maximum of its window in row-major order (as tfjs' cpu backend picks it); padding never wins.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return Guard(env, "maxPoolGrad", [&] {
    Call c(env, info, "maxPoolGrad", 4);
    const F32 x = c.Floats(0, "x"), dy = c.Floats(1, "dy"), dx = c.Floats(2, "dx");
    const std::vector<int64_t> p = c.Integers(
        3, "geometry",
        {"batch", "height", "width", "channels", "pool height", "pool width", "output height", "output width", "stride height",
         "stride width", "padding top", "padding left"},
        0, kMaxElems);
    static const char* names[] = {"batch", "height", "width", "channels", "pool height", "pool width", "output height",
                                  "output width", "stride height", "stride width"};
    for (int k = 0; k < 10; k++)
      if (p[k] < 1) c.Fail(std::string("geometry: ") + names[k] + " must be ≥ 1, got " + std::to_string(p[k]));
    const int64_t n = p[0], h = p[1], w = p[2], ch = p[3], fh = p[4], fw = p[5], oh = p[6], ow = p[7], sh = p[8], sw = p[9],
                  pt = p[10], pl = p[11];
    CheckWindow(c, "height", h, fh, sh, 1, pt, oh);
    CheckWindow(c, "width", w, fw, sw, 1, pl, ow);
    const int64_t nx = c.Elems("x", {n, h, w, ch}), ny = c.Elems("dy", {n, oh, ow, ch});
    c.Holds(x, "x", nx);
    c.Holds(dx, "dx", nx);
    c.Holds(dy, "dy", ny);
    // Per-thread scratch, allocated here rather than inside the workers.
    const int t = int(std::min<int64_t>(g_threads, n));
    std::vector<std::vector<float>> bests(static_cast<size_t>(t), std::vector<float>(static_cast<size_t>(ch)));
    std::vector<std::vector<int64_t>> wheres(static_cast<size_t>(t), std::vector<int64_t>(static_cast<size_t>(ch)));
    RunRanges(t, n, [&](int worker, int64_t b, int64_t e) {
      std::vector<float>& best = bests[size_t(worker)];
      std::vector<int64_t>& where = wheres[size_t(worker)];
      std::memset(dx.data + b * h * w * ch, 0, sizeof(float) * size_t((e - b) * h * w * ch));
      for (int64_t img = b; img < e; img++) {
        const float* xi = x.data + img * h * w * ch;
        float* di = dx.data + img * h * w * ch;
        const float* g = dy.data + img * oh * ow * ch;
        for (int64_t y = 0; y < oh; y++) {
          for (int64_t xo = 0; xo < ow; xo++, g += ch) {
            std::fill(best.begin(), best.end(), -INFINITY);
            std::fill(where.begin(), where.end(), -1);
            for (int64_t i = 0; i < fh; i++) {
              const int64_t ih = y * sh - pt + i;
              if (ih < 0 || ih >= h) continue;
              for (int64_t j = 0; j < fw; j++) {
                const int64_t iw = xo * sw - pl + j;
                if (iw < 0 || iw >= w) continue;
                const int64_t at = (ih * w + iw) * ch;
                const float* px = xi + at;
                for (int64_t k = 0; k < ch; k++) {
                  if (px[k] > best[size_t(k)]) {
                    best[size_t(k)] = px[k];
                    where[size_t(k)] = at + k;
                  }
                }
              }
            }
            for (int64_t k = 0; k < ch; k++) {
              if (where[size_t(k)] >= 0) di[where[size_t(k)]] += g[k];
            }
          }
        }
      }
    });
    return Undefined(env);
  });
}

// reduceRows(x, out, rows, cols, scale): out[j] = scale · Σ_i x[i, j] (Sum / Mean over every axis but the last),
// float64 partial sums per thread.
napi_value ReduceRows(napi_env env, napi_callback_info info) {
  return Guard(env, "reduceRows", [&] {
    Call c(env, info, "reduceRows", 5);
    const F32 x = c.Floats(0, "x"), out = c.Floats(1, "out");
    const int64_t rows = c.Integer(2, "rows", 1, kMaxElems), cols = c.Integer(3, "cols", 1, kMaxElems);
    const double scale = c.Number(4, "scale");
    c.Holds(x, "x", c.Elems("x", {rows, cols}));
    c.Holds(out, "out", cols);
    const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g_threads, rows / 1024 + 1)));
    std::vector<std::vector<double>> part(static_cast<size_t>(t), std::vector<double>(static_cast<size_t>(cols), 0.0));
    std::vector<std::vector<float>> blocks(static_cast<size_t>(t), std::vector<float>(static_cast<size_t>(cols)));
    RunRanges(t, rows, [&](int k, int64_t b, int64_t e) {
      std::vector<double>& acc = part[size_t(k)];
      std::vector<float>& blk = blocks[size_t(k)];
      // Accumulate blocks of rows in float, then fold into double: vectorisable and still accurate.
      for (int64_t r0 = b; r0 < e; r0 += 64) {
        std::fill(blk.begin(), blk.end(), 0.f);
        const int64_t r1 = std::min(e, r0 + 64);
        for (int64_t r = r0; r < r1; r++) {
          const float* row = x.data + r * cols;
          for (int64_t j = 0; j < cols; j++) blk[size_t(j)] += row[j];
        }
        for (int64_t j = 0; j < cols; j++) acc[size_t(j)] += blk[size_t(j)];
      }
    });
    for (int64_t j = 0; j < cols; j++) {
      double s = 0;
      for (int k = 0; k < t; k++) s += part[size_t(k)][size_t(j)];
      out.data[j] = static_cast<float>(s * scale);
    }
    return Undefined(env);
  });
}

// binary(op, a, b, out, n, period, swap): out[i] = a[i] op b[i mod period] with period = n (same shape), 1 (scalar)
// or the channel count (a vector along the last axis); `swap` computes b op a for a broadcast `a`.
// op: 0 add, 1 sub, 2 mul, 3 div.
napi_value Binary(napi_env env, napi_callback_info info) {
  return Guard(env, "binary", [&] {
    Call c(env, info, "binary", 7);
    const int64_t op = c.Integer(0, "op", 0, 3);
    const F32 A = c.Floats(1, "a"), B = c.Floats(2, "b"), out = c.Floats(3, "out");
    const int64_t n = c.Integer(4, "n", 1, kMaxElems), period = c.Integer(5, "period", 1, kMaxElems);
    const bool swap = c.Bool(6, "swap");
    if (n % period != 0) c.Fail("period " + std::to_string(period) + " does not divide n " + std::to_string(n));
    c.Holds(A, "a", n);
    c.Holds(B, "b", period);
    c.Holds(out, "out", n);
    BinaryKernel(int(op), A.data, B.data, out.data, n, period, swap);
    return Undefined(env);
  });
}

// batchNorm(x, mean, variance, offset | null, scale | null, out, channels, epsilon): inference-style
// normalisation with per-channel statistics, as tfjs' FusedBatchNorm kernel.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return Guard(env, "batchNorm", [&] {
    Call c(env, info, "batchNorm", 8);
    const F32 x = c.Floats(0, "x"), mean = c.Floats(1, "mean"), var = c.Floats(2, "variance"), offset = c.Floats(3, "offset", true),
              scale = c.Floats(4, "scale", true), out = c.Floats(5, "out");
    const int64_t ch = c.Integer(6, "channels", 1, kMaxElems);
    const double eps = c.Number(7, "epsilon");
    if (eps < 0) c.Fail("epsilon: must be ≥ 0");
    if (x.length == 0 || x.length % size_t(ch) != 0)
      c.Fail("x: " + std::to_string(x.length) + " floats are not whole rows of " + std::to_string(ch) + " channels");
    c.Holds(out, "out", int64_t(x.length));
    c.Holds(mean, "mean", ch);
    c.Holds(var, "variance", ch);
    if (offset.data) c.Holds(offset, "offset", ch);
    if (scale.data) c.Holds(scale, "scale", ch);
    std::vector<float> mul(static_cast<size_t>(ch)), add(static_cast<size_t>(ch));
    for (int64_t j = 0; j < ch; j++) {
      const float inv = 1.f / std::sqrt(var.data[j] + static_cast<float>(eps));
      mul[size_t(j)] = inv * (scale.data ? scale.data[j] : 1.f);
      add[size_t(j)] = (offset.data ? offset.data[j] : 0.f) - mean.data[j] * mul[size_t(j)];
    }
    const int64_t rows = int64_t(x.length) / ch;
    ParallelFor(rows, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; r++) {
        const float* xr = x.data + r * ch;
        float* o = out.data + r * ch;
        for (int64_t j = 0; j < ch; j++) o[j] = xr[j] * mul[size_t(j)] + add[size_t(j)];
      }
    });
    return Undefined(env);
  });
}

// setThreads(n): worker threads for the kernels (OpenBLAS itself stays single-threaded per call).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return Guard(env, "setThreads", [&] {
    Call c(env, info, "setThreads", 1);
    g_threads = int(c.Integer(0, "threads", 1, 1024));
    cnnwb::DnnlSetThreads(g_threads);
    // Parallelism is ours (ForImageRanges / ParallelFor); every SGEMM runs single-threaded on its caller.
    g_blas.setThreads(1);
    return Undefined(env);
  });
}

// ---- the fused training step (trainer.h): one native call per batch

// The JS handle owns a holder, so trainerDispose can free the trainer's buffers (~160 MB for the lesson CNN at
// batch 128) at once rather than whenever V8 collects the tiny handle; the finalizer frees what is left.
struct TrainerHolder {
  cnnwb::Trainer* trainer = nullptr;
};

// Marks our handles, so that an external made by another addon is refused rather than taken for a trainer.
constexpr napi_type_tag kTrainerTag = {0x636e6e77622d7472ull, 0x61696e65722d7631ull};

TrainerHolder* GetHolder(const Call& c, size_t i) {
  void* p = nullptr;
  napi_valuetype t = napi_undefined;
  bool ours = false;
  napi_typeof(c.env(), c.arg(i), &t);
  if (t == napi_external) napi_check_object_type_tag(c.env(), c.arg(i), &kTrainerTag, &ours);
  if (!ours || napi_get_value_external(c.env(), c.arg(i), &p) != napi_ok || !p) c.Fail("expected a trainer handle");
  return static_cast<TrainerHolder*>(p);
}

cnnwb::Trainer* GetTrainer(const Call& c, size_t i) {
  cnnwb::Trainer* t = GetHolder(c, i)->trainer;
  if (!t) c.Fail("this trainer was disposed");
  return t;
}

// trainerDispose(handle): frees the trainer now; later calls with the handle throw.
napi_value TrainerDispose(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerDispose", [&] {
    Call c(env, info, "trainerDispose", 1);
    TrainerHolder* holder = GetHolder(c, 0);
    delete holder->trainer;
    holder->trainer = nullptr;
    return Undefined(env);
  });
}

// trainerCreate(layers: number[][], input: [h, w, c], maxBatch, optimizer: [kind, a, b, eps], seed, graph?: number[][],
// precision?: 0 float32 | 1 mixed_bfloat16) → handle.
// The Trainer checks each layer's codes (trainer.cc); here the lists' shapes and the input.
napi_value TrainerCreate(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerCreate", [&] {
    Call c(env, info, "trainerCreate", 5);
    bool isArray = false;
    napi_is_array(env, c.arg(0), &isArray);
    if (!isArray) c.Fail("layers: expected an array of code lists");
    uint32_t count = 0;
    napi_get_array_length(env, c.arg(0), &count);
    std::vector<std::vector<double>> layers(count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value e;
      if (napi_get_element(env, c.arg(0), i, &e) != napi_ok) c.Fail("layers: cannot read layer " + std::to_string(i));
      layers[i] = c.Numbers(e, "layer " + std::to_string(i));
    }
    const std::vector<int64_t> input = c.Integers(1, "input", {"height", "width", "channels"}, 1, kMaxElems);
    const int64_t maxBatch = c.Integer(2, "maxBatch", 1, kMaxElems);
    const std::vector<double> optimizer = c.Numbers(c.arg(3), "optimizer", 4);
    const int64_t seed = c.Integer(4, "seed", -int64_t(kMaxSafeInt), int64_t(kMaxSafeInt));
    // graph (optional): per layer the indices of the layers it reads (-1: the input); absent for a straight list.
    std::vector<std::vector<double>> graph;
    napi_valuetype graphType = napi_undefined;
    napi_typeof(env, c.arg(5), &graphType);
    if (graphType != napi_undefined && graphType != napi_null) {
      napi_is_array(env, c.arg(5), &isArray);
      if (!isArray) c.Fail("graph: expected an array of input lists");
      uint32_t lists = 0;
      napi_get_array_length(env, c.arg(5), &lists);
      if (lists != count) c.Fail("graph: " + std::to_string(lists) + " input lists for " + std::to_string(count) + " layers");
      graph.resize(lists);
      for (uint32_t i = 0; i < lists; i++) {
        napi_value e;
        if (napi_get_element(env, c.arg(5), i, &e) != napi_ok) c.Fail("graph: cannot read layer " + std::to_string(i));
        graph[i] = c.Numbers(e, "graph: layer " + std::to_string(i));
      }
    }
    napi_valuetype precisionType = napi_undefined;
    napi_typeof(env, c.arg(6), &precisionType);
    const int64_t precision = precisionType == napi_undefined ? 0 : c.Integer(6, "precision", 0, 1);
    std::unique_ptr<cnnwb::Trainer> t(new cnnwb::Trainer(layers, input[0], input[1], input[2], maxBatch, optimizer, uint64_t(seed), g_threads,
                                                         g_blas.sgemm, graph, cnnwb::Precision(precision)));
    auto holder = std::make_unique<TrainerHolder>();
    holder->trainer = t.get();
    napi_value handle;
    if (napi_create_external(
            env, holder.get(),
            [](napi_env, void* data, void*) {
              auto* h = static_cast<TrainerHolder*>(data);
              delete h->trainer;
              delete h;
            },
            nullptr, &handle) != napi_ok)
      throw std::runtime_error("cannot create the handle");
    // From here the handle's finalizer owns the trainer and its holder.
    t.release();
    holder.release();
    if (napi_type_tag_object(env, handle, &kTrainerTag) != napi_ok) throw std::runtime_error("cannot tag the handle");
    return handle;
  });
}

// trainerLayout(handle) → per layer { shape: [h, w, c], params: [sizes], bf16: computes in bfloat16 }
napi_value TrainerLayout(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerLayout", [&] {
    Call c(env, info, "trainerLayout", 1);
    cnnwb::Trainer* t = GetTrainer(c, 0);
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
      napi_value bf16;
      napi_get_boolean(env, t->ComputesInBf16(i), &bf16);
      napi_set_named_property(env, o, "bf16", bf16);
      napi_set_element(env, list, uint32_t(i), o);
    }
    return list;
  });
}

// trainerParam(handle, layer, param, data, write, slot = 0): copies data into the trainer (write) or out of it;
// slot 0 is the value, 1 and 2 the optimizer's slots (for checkpoints; a non-trainable param has none).
napi_value TrainerParam(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerParam", [&] {
    Call c(env, info, "trainerParam", 5);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    const int64_t layer = c.Integer(1, "layer", 0, int64_t(t->NumLayers()) - 1);
    const int64_t param = c.Integer(2, "param", 0, int64_t(t->NumParams(size_t(layer))) - 1);
    const F32 data = c.Floats(3, "data");
    const bool write = c.Bool(4, "write");
    napi_valuetype slotType = napi_undefined;
    napi_typeof(env, c.arg(5), &slotType);
    const int64_t slot = slotType == napi_undefined ? 0 : c.Integer(5, "slot", 0, 2);
    std::vector<float>& w = t->ParamSlot(size_t(layer), size_t(param), int(slot));
    if (data.length != w.size())
      c.Fail("layer " + std::to_string(layer) + " param " + std::to_string(param) + (slot ? " slot " + std::to_string(slot) : std::string()) +
             " has " + std::to_string(w.size()) + " values, received " + std::to_string(data.length));
    if (w.empty()) return Undefined(env);
    if (write) std::memcpy(w.data(), data.data, sizeof(float) * w.size());
    else std::memcpy(data.data, w.data(), sizeof(float) * w.size());
    return Undefined(env);
  });
}

// trainerCounters(handle, set?: [steps, dropoutCalls]) → [steps, dropoutCalls] (before any set)
napi_value TrainerCounters(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerCounters", [&] {
    Call c(env, info, "trainerCounters", 1);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    napi_value out, v;
    napi_create_array_with_length(env, 2, &out);
    napi_create_int64(env, t->Steps(), &v);
    napi_set_element(env, out, 0, v);
    napi_create_int64(env, t->DropoutCalls(), &v);
    napi_set_element(env, out, 1, v);
    napi_valuetype type = napi_undefined;
    napi_typeof(env, c.arg(1), &type);
    if (type != napi_undefined && type != napi_null) {
      const std::vector<int64_t> n = c.Integers(1, "counters", {"steps", "dropoutCalls"}, 0, int64_t(kMaxSafeInt));
      t->SetCounters(n[0], n[1]);
    }
    return out;
  });
}

// trainerStep(handle, x: Float32Array, labels: Int32Array, n, lr) → [loss, accuracy, finite (1/0)]
napi_value TrainerStep(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerStep", [&] {
    Call c(env, info, "trainerStep", 5);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    const F32 x = c.Floats(1, "x");
    const int64_t n = c.Integer(3, "n", 1, t->MaxBatch());
    const double lr = c.Number(4, "lr");
    bool typed = false;
    napi_is_typedarray(env, c.arg(2), &typed);
    napi_typedarray_type type = napi_int8_array;
    size_t length = 0;
    void* labels = nullptr;
    if (typed) napi_get_typedarray_info(env, c.arg(2), &type, &length, &labels, nullptr, nullptr);
    if (!typed || type != napi_int32_array) c.Fail("labels: expected an Int32Array");
    if (length < size_t(n)) c.Fail("labels: " + std::to_string(length) + " labels for " + std::to_string(n) + " images");
    c.Holds(x, "x", n * t->InputSize());  // ≤ maxBatch × input size, counted at trainerCreate
    const cnnwb::StepResult r = t->Step(x.data, static_cast<const int32_t*>(labels), n, lr);
    napi_value out, v;
    napi_create_array_with_length(env, 3, &out);
    napi_create_double(env, r.loss, &v);
    napi_set_element(env, out, 0, v);
    napi_create_double(env, r.accuracy, &v);
    napi_set_element(env, out, 1, v);
    napi_create_double(env, r.finite ? 1 : 0, &v);
    napi_set_element(env, out, 2, v);
    return out;
  });
}

// trainerInfer(handle, x: Float32Array, n, y: Float32Array): the inference pass (Trainer::Infer) of n images
// into y (n × the last layer's size). Lengths are checked here, before any loop.
napi_value TrainerInfer(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerInfer", [&] {
    Call c(env, info, "trainerInfer", 4);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    const F32 x = c.Floats(1, "x");
    const int64_t n = c.Integer(2, "n", 0, INT32_MAX);
    const F32 y = c.Floats(3, "y");
    const std::vector<int64_t> last = t->OutputShape(t->NumLayers() - 1);
    const int64_t k = last[0] * last[1] * last[2];
    if (t->InputSize() > 0 && n > INT64_MAX / t->InputSize()) c.Fail("n: too many images");
    c.Holds(x, "x", n * t->InputSize());
    c.Holds(y, "y", n * k);
    t->Infer(x.data, n, y.data);
    return static_cast<napi_value>(nullptr);
  });
}

// trainerInferCheck(handle) → the index of the first layer trainerInfer does not cover, or -1.
napi_value TrainerInferCheck(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerInferCheck", [&] {
    Call c(env, info, "trainerInferCheck", 1);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    napi_value v;
    napi_create_int64(env, t->FirstLayerInferCannotRun(), &v);
    return v;
  });
}

// trainerProfile(handle, reset) → seconds per layer category and pass, then loss, optimizer, steps, images
// inferred (Trainer::Profile); zeroes them when reset.
napi_value TrainerProfile(napi_env env, napi_callback_info info) {
  return Guard(env, "trainerProfile", [&] {
    Call c(env, info, "trainerProfile", 2);
    cnnwb::Trainer* t = GetTrainer(c, 0);
    const std::vector<double> p = t->Profile(c.Bool(1, "reset"));
    napi_value list;
    napi_create_array_with_length(env, p.size(), &list);
    for (size_t i = 0; i < p.size(); i++) {
      napi_value v;
      napi_create_double(env, p[i], &v);
      napi_set_element(env, list, uint32_t(i), v);
    }
    return list;
  });
}

// useOneDnn(on): oneDNN convolutions when built with them (the default), or the im2col + OpenBLAS path (tests).
napi_value UseOneDnn(napi_env env, napi_callback_info info) {
  return Guard(env, "useOneDnn", [&] {
    Call c(env, info, "useOneDnn", 1);
    cnnwb::DnnlEnable(c.Bool(0, "on"));
    return Undefined(env);
  });
}

// info(): { blas: "OpenBLAS <config>", core: "<kernel set>", threads, coreChosenBy, convolutions, bf16: the CPU's
// bfloat16 instructions are usable (what mixed_bfloat16 needs) }
napi_value Info(napi_env env, napi_callback_info) {
  return Guard(env, "info", [&] {
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
    napi_value bf16;
    napi_get_boolean(env, cnnwb::DnnlHasBf16(), &bf16);
    napi_set_named_property(env, o, "bf16", bf16);
    return o;
  });
}

// augment(x, out, n, [h, w, c], ops: number[][], params: Float32Array, training): the augmentation pass
// (augment.h) of n images into out (may be x). Codes, sizes and every drawn parameter are checked before any loop.
napi_value Augment(napi_env env, napi_callback_info info) {
  return Guard(env, "augment", [&] {
    Call c(env, info, "augment", 7);
    const F32 x = c.Floats(0, "x");
    const F32 out = c.Floats(1, "out");
    const int64_t n = c.Integer(2, "n", 0, kMaxElems);
    const std::vector<int64_t> s = c.Integers(3, "shape", {"height", "width", "channels"}, 1, kMaxElems);
    c.Elems("one image", {s[0], s[1], s[2]});
    const int64_t total = c.Elems("x", {n, s[0], s[1], s[2]});
    c.Holds(x, "x", total);
    c.Holds(out, "out", total);
    bool isArray = false;
    napi_is_array(env, c.arg(4), &isArray);
    if (!isArray) c.Fail("ops: expected an array of code lists");
    uint32_t count = 0;
    napi_get_array_length(env, c.arg(4), &count);
    std::vector<std::vector<double>> codes(count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value e;
      if (napi_get_element(env, c.arg(4), i, &e) != napi_ok) c.Fail("ops: cannot read op " + std::to_string(i));
      codes[i] = c.Numbers(e, "op " + std::to_string(i));
    }
    std::vector<cnnwb::AugmentOp> ops;
    std::string why = cnnwb::AugmentParse(codes, &ops);
    if (!why.empty()) c.Fail("ops: " + why);
    const F32 params = c.Floats(5, "params");
    const bool training = c.Bool(6, "training");
    const int64_t need = c.Elems("params", {n, cnnwb::AugmentParamsPerImage(ops, training)});
    if (params.length != size_t(need)) c.Fail("params: " + std::to_string(params.length) + " floats, the ops need " + std::to_string(need));
    why = cnnwb::AugmentCheckParams(ops, training, params.data, n);
    if (!why.empty()) c.Fail(why);
    cnnwb::Augment(ops, training, params.data, x.data, out.data, n, s[0], s[1], s[2], g_threads);
    return Undefined(env);
  });
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
      {"trainerInfer", nullptr, TrainerInfer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerInferCheck", nullptr, TrainerInferCheck, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerProfile", nullptr, TrainerProfile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"useOneDnn", nullptr, UseOneDnn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"augment", nullptr, Augment, nullptr, nullptr, nullptr, napi_default, nullptr},
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
