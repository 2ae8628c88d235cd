// The fused training step (see trainer.h). Every loop runs on `threads_` OpenMP threads; every image-parallel
// loop writes disjoint outputs, and reductions go through per-thread partial sums in double.
#include "trainer.h"

#ifdef _OPENMP
#include <omp.h>
#else
// Built without OpenMP (a compiler without -fopenmp): every loop runs on the calling thread.
inline int omp_get_thread_num() { return 0; }
inline int omp_get_num_threads() { return 1; }
#endif

#include <unistd.h>

#include "layer-passes.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <new>
#include <stdexcept>

namespace cnnwb {
namespace {

constexpr double kProbEpsilon = 1e-7;  // tfjs / Keras clip probabilities to [ε, 1 - ε] inside the loss

std::string Name(size_t i) { return "layer " + std::to_string(i); }

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The profile's category of a layer kind (Trainer::Profile).
int ProfileCategory(int kind) {
  switch (kind) {
    case kConv: return Trainer::kProfileConv;
    case kBatchNorm: return Trainer::kProfileBatchNorm;
    case kMaxPool: case kAvgPool: case kGlobalAvgPool: case kGlobalMaxPool: return Trainer::kProfilePool;
    case kDense: return Trainer::kProfileDense;
    default: return Trainer::kProfileOther;
  }
}

std::string Show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool IsInt(double v) { return std::isfinite(v) && v == std::floor(v); }

// The most elements of any buffer: GEMM dimensions fit OpenBLAS' 32-bit blasint, offsets fit int32 (argmax).
constexpr int64_t kMaxElems = INT32_MAX;

// The product of `dims` (each ≥ 0), refused above kMaxElems; `who` names the buffer in the message.
int64_t Count(const std::string& who, std::initializer_list<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d != 0 && p > kMaxElems / d)) throw std::runtime_error(who + ": more than 2^31 - 1 elements");
    p *= d;
  }
  return p;
}

// Bytes of RAM, or 0 when the system does not say.
uint64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) : 0;
}

// 'same': out = ceil(in / s), padding split with the extra row/column at the end; 'valid': no padding.
void Window(int64_t in, int64_t k, int64_t s, int64_t d, bool same, int64_t* out, int64_t* padBefore) {
  const int64_t eff = (k - 1) * d + 1;
  if (same) {
    *out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (*out - 1) * s + eff - in);
    *padBefore = total / 2;
  } else {
    *out = in >= eff ? (in - eff) / s + 1 : 0;
    *padBefore = 0;
  }
}

constexpr double kSeluScale = 1.0507009873554804934193349852946, kSeluAlpha = 1.6732632423543772848170429916717;

bool Smooth(int act) { return act >= kElu; }

// tfjs' definitions of the activations other than relu / softmax.
inline float ActF(int act, float x) {
  switch (act) {
    case kElu: return x > 0 ? x : std::expm1(x);
    case kSelu: return float(x > 0 ? kSeluScale * x : kSeluScale * kSeluAlpha * std::expm1(double(x)));
    case kGelu: return float(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    case kSwish: return x / (1 + std::exp(-x));
    case kSigmoid: return 1 / (1 + std::exp(-x));
    case kTanh: return std::tanh(x);
    default: return x;
  }
}

// d act / dx at x (y = act(x)).
inline float ActD(int act, float x, float y) {
  switch (act) {
    case kElu: return x > 0 ? 1.f : y + 1.f;
    case kSelu: return float(x > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(double(x)));
    case kGelu: return float(0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * double(x) * x) / std::sqrt(2 * M_PI));
    case kSwish: {
      const float s = 1 / (1 + std::exp(-x));
      return s + x * s * (1 - s);
    }
    case kSigmoid: return y * (1 - y);
    case kTanh: return 1 - y * y;
    default: return 1.f;
  }
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Inverted-dropout mask: 0, or 1 / (1 − rate) where a uniform draw ≥ rate (tfjs: keep where u + keepProb ≥ 1).
// One counter-based stream per call, so the masks depend on the seed and the call count, not on threads.
void DropoutMask(uint64_t seed, int64_t call, double rate, int64_t count, float* mask, int T) {
  const float keepScale = float(1.0 / (1.0 - rate));
  const uint64_t stream = SplitMix(seed ^ SplitMix(uint64_t(call)));
#pragma omp parallel for num_threads(T) schedule(static) if (count > 65536)
  for (int64_t k = 0; k < count; k++) {
    const double u = double(SplitMix(stream + uint64_t(k)) >> 11) * 0x1.0p-53;
    mask[k] = u >= rate ? keepScale : 0.f;
  }
}

using passes::ForWindow;

// y = x rounded to the nearest bfloat16 (ties to even, as oneDNN and Keras round; NaN stays a NaN), n values on
// T threads: a loop the compiler vectorises, at memory speed (6 bytes per value).
void ToBf16(const float* x, int64_t n, Bf16* y, int T) {
#pragma omp parallel for num_threads(T) schedule(static) if (n > 65536)
  for (int64_t k = 0; k < n; k++) {
    uint32_t u;
    std::memcpy(&u, x + k, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    y[k] = Bf16((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded);
  }
}

// A convolution's forward pass on g.n images of x. xBf16 (mixed_bfloat16): a buffer for x rounded to bfloat16, which
// the convolution then reads (kept there for the backward pass); null, or a geometry oneDNN refuses: float32.
void ConvForwardIn(const Conv& g, const float* x, Bf16* xBf16, const float* w, const float* bias, float* y, bool relu, int T) {
  if (xBf16) {
    ToBf16(x, g.n * g.h * g.w * g.c, xBf16, T);
    if (DnnlConvForwardBf16(g, xBf16, w, bias, y, relu)) return;
  }
  ConvForward(g, x, w, bias, y, relu);
}

// Per-channel sums over `rows` rows of C channels (BatchNorm's statistics and gradients): row(r, b1, b2) adds row
// r's terms into b1[0..C) and b2[0..C); float blocks of 64 rows folded into double, each of T threads on its own rows.
template <typename Row>
void RowSums(int64_t rows, int64_t C, int T, Row row, std::vector<double>* s1, std::vector<double>* s2) {
  std::vector<double> part(size_t(2 * T * C), 0.0);
  bool failed = false;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t per = (rows + nt - 1) / nt, r0 = std::min(rows, t * per), r1 = std::min(rows, r0 + per);
    double* p1 = part.data() + size_t(2 * t * C);
    double* p2 = p1 + C;
    // An exception must not escape an OpenMP region (the process would end): a failed allocation is reported
    // after it. (Blocks local to each thread, passed on as __restrict: the compiler then knows they alias nothing,
    // which makes the row loops twice as fast as with blocks carved from one shared buffer.)
    try {
      std::vector<float> b1(C), b2(C);
      for (int64_t b = r0; b < r1; b += 64) {
        std::fill(b1.begin(), b1.end(), 0.f);
        std::fill(b2.begin(), b2.end(), 0.f);
        const int64_t e = std::min(r1, b + 64);
        for (int64_t r = b; r < e; r++) row(r, b1.data(), b2.data());
        for (int64_t j = 0; j < C; j++) p1[j] += b1[j], p2[j] += b2[j];
      }
    } catch (...) {
#pragma omp atomic write
      failed = true;
    }
  }
  if (failed) throw std::bad_alloc();
  s1->assign(size_t(C), 0.0);
  s2->assign(size_t(C), 0.0);
  for (int t = 0; t < T; t++)
    for (int64_t j = 0; j < C; j++) (*s1)[j] += part[size_t(2 * t * C + j)], (*s2)[j] += part[size_t(2 * t * C + C + j)];
}

// s1[j] = Σ_r f1(r, j) and s2[j] = Σ_r f2(r, j).
template <typename F1, typename F2>
void ChannelSums(int64_t rows, int64_t C, int T, F1 f1, F2 f2, std::vector<double>* s1, std::vector<double>* s2) {
  RowSums(
      rows, C, T,
      [&](int64_t r, float* __restrict b1, float* __restrict b2) {
        for (int64_t j = 0; j < C; j++) {
          b1[j] += f1(r, j);
          b2[j] += f2(r, j);
        }
      },
      s1, s2);
}

}  // namespace

Trainer::Trainer(const std::vector<std::vector<double>>& specs, int64_t h, int64_t w, int64_t c, int64_t maxBatch,
                 const std::vector<double>& optimizer, uint64_t seed, int threads, SgemmFn sgemm,
                 const std::vector<std::vector<double>>& graph, Precision precision)
    : graph_(!graph.empty()), optimizer_(optimizer), seed_(seed), threads_(std::max(1, threads)), sgemm_(sgemm), maxBatch_(maxBatch) {
  if (graph_ && graph.size() != specs.size())
    throw std::runtime_error("graph: " + std::to_string(graph.size()) + " input lists for " + std::to_string(specs.size()) + " layers");
  if (precision != kFloat32 && precision != kMixedBfloat16) throw std::runtime_error("precision: expected 0 (float32) or 1 (mixed_bfloat16)");
  const bool bf16 = precision == kMixedBfloat16 && DnnlHasBf16();
  int64_t maxBf16Grad = 0;
  if (optimizer_.size() != 4 || !IsInt(optimizer_[0]) || optimizer_[0] < kAdam || optimizer_[0] > kAdamax)
    throw std::runtime_error("optimizer: expected [kind (1-5), a, b, eps]");
  for (size_t k = 1; k < 4; k++)
    if (!std::isfinite(optimizer_[k])) throw std::runtime_error("optimizer: its settings must be finite numbers");
  for (int64_t d : {h, w, c, maxBatch})
    if (d < 1 || d > kMaxElems) throw std::runtime_error("input: [h, w, c] and maxBatch must be integers in [1, 2^31 - 1]");
  // Every buffer is counted first and allocated only once the total fits the machine's memory: a too-large
  // model is refused here with a message, not killed by the OOM killer while its zero-filled buffers are touched.
  const uint64_t budget = PhysicalMemory();
  uint64_t bytes = 0;
  std::vector<std::function<void()>> allocations;
  // Counts `elems` × `perElem` bytes for the layer being read (index layers_.size()) and defers `fill` on it.
  auto later = [&](int64_t elems, uint64_t perElem, std::function<void(Layer&)> fill) {
    bytes += uint64_t(elems) * perElem;
    allocations.emplace_back([this, idx = layers_.size(), fill = std::move(fill)] { fill(layers_[idx]); });
  };
  const float slotFill = optimizer_[0] == kAdagrad ? float(optimizer_[1]) : 0.f;  // Adagrad's initial accumulator
  int64_t H = h, W = w, C = c;
  int64_t maxElems = Count("input", {maxBatch, h, w, c});
  for (size_t i = 0; i < specs.size(); i++) {
    const std::vector<double>& s = specs[i];
    if (s.empty()) throw std::runtime_error(Name(i) + ": empty description");
    Layer L;
    if (!IsInt(s[0]) || s[0] < kConv || s[0] > kSubtract) throw std::runtime_error(Name(i) + ": unknown layer kind " + Show(s[0]));
    L.kind = int(s[0]);
    L.cfg = s;
    if (graph_) GraphInputs(L, i, graph[i], h, w, c, &H, &W, &C);
    else if (L.kind >= kAdd) throw std::runtime_error(Name(i) + ": a merge layer needs a graph (the inputs of each layer)");
    L.inH = H, L.inW = W, L.inC = C;
    auto need = [&](size_t k) {
      if (s.size() != k) throw std::runtime_error(Name(i) + ": expected " + std::to_string(k) + " numbers, received " + std::to_string(s.size()));
    };
    // s[k] as an integer in [lo, 2^31 - 1] (sizes, strides, dilations, pool sizes, paddings).
    auto integer = [&](size_t k, int64_t lo, const char* what) -> int64_t {
      if (!IsInt(s[k]) || s[k] < double(lo) || s[k] > double(kMaxElems))
        throw std::runtime_error(Name(i) + ": " + what + " must be an integer in [" + std::to_string(lo) + ", 2^31 - 1], got " + Show(s[k]));
      return int64_t(s[k]);
    };
    auto flag = [&](size_t k, const char* what) -> bool {
      if (s[k] != 0 && s[k] != 1) throw std::runtime_error(Name(i) + ": " + what + " must be 0 or 1, got " + Show(s[k]));
      return s[k] != 0;
    };
    auto number = [&](size_t k, double lo, const char* what) -> double {
      if (!std::isfinite(s[k]) || s[k] < lo) throw std::runtime_error(Name(i) + ": " + what + " must be a finite number ≥ " + Show(lo) + ", got " + Show(s[k]));
      return s[k];
    };
    auto activation = [&](size_t k) -> int {
      if (!IsInt(s[k]) || s[k] < kLinear || s[k] > kTanh) throw std::runtime_error(Name(i) + ": unknown activation " + Show(s[k]));
      return int(s[k]);
    };
    auto param = [&](int64_t size, bool trainable, float fill) {
      const size_t k = L.params.size();
      L.params.emplace_back();
      L.params.back().trainable = trainable;
      later(size, trainable ? 16 : 4, [k, size, trainable, fill, slotFill](Layer& l) {
        Param& p = l.params[k];
        p.w.assign(size_t(size), fill);
        if (trainable) {
          p.grad.assign(size_t(size), 0.f);
          p.m.assign(size_t(size), slotFill);
          p.v.assign(size_t(size), 0.f);
        }
      });
    };
    const std::string who = Name(i);
    switch (L.kind) {
      case kConv: {  // [1, filters, kh, kw, sh, sw, dh, dw, same, useBias, act]
        need(11);
        const int64_t f = integer(1, 1, "filters"), kh = integer(2, 1, "kernel height"), kw = integer(3, 1, "kernel width"),
                      sh = integer(4, 1, "stride height"), sw = integer(5, 1, "stride width"), dh = integer(6, 1, "dilation height"),
                      dw = integer(7, 1, "dilation width");
        const bool same = flag(8, "padding (same)"), useBias = flag(9, "use bias");
        int64_t oh, ow, pt, pl;
        Window(H, kh, sh, dh, same, &oh, &pt);
        Window(W, kw, sw, dw, same, &ow, &pl);
        L.conv = Conv{0, H, W, C, kh, kw, f, oh, ow, sh, sw, dh, dw, pt, pl};
        L.act = activation(10);
        param(Count(who + " kernel", {kh, kw, C, f}), true, 0.f);
        Count(who + " im2col columns", {oh, ow, kh, kw, C});
        if (useBias) param(f, true, 0.f);
        L.outH = oh, L.outW = ow, L.outC = f;
        if (bf16 && C >= kBf16MinChannels) {
          const int64_t inElems = Count(who + " input", {maxBatch, H, W, C});
          later(inElems, sizeof(Bf16), [inElems](Layer& l) { l.inBf16.resize(size_t(inElems)); });
          maxBf16Grad = std::max(maxBf16Grad, Count(who + " output", {maxBatch, oh, ow, f}));
        }
        break;
      }
      case kDense: {  // [2, units, useBias, act]
        need(4);
        const int64_t units = integer(1, 1, "units");
        if (H != 1 || W != 1) throw std::runtime_error(Name(i) + ": Dense needs a flat input");
        const bool useBias = flag(2, "use bias");
        param(Count(who + " kernel", {C, units}), true, 0.f);
        if (useBias) param(units, true, 0.f);
        L.act = activation(3);
        L.outH = 1, L.outW = 1, L.outC = units;
        break;
      }
      case kBatchNorm: {  // [3, momentum, epsilon, center, scale]
        need(5);
        number(1, -INFINITY, "momentum");
        number(2, 0, "epsilon");
        const bool center = flag(3, "center"), scale = flag(4, "scale");
        if (scale) param(C, true, 1.f);   // gamma
        if (center) param(C, true, 0.f);  // beta
        param(C, false, 0.f);             // moving mean
        param(C, false, 1.f);             // moving variance
        L.outH = H, L.outW = W, L.outC = C;
        later(2 * C, 4, [C](Layer& l) { l.mean.resize(size_t(C)), l.invStd.resize(size_t(C)); });
        break;
      }
      case kGroupNorm: {  // [14, groups, epsilon, center, scale]: Keras' GroupNormalization on the channel axis
        need(5);
        L.groups = integer(1, 1, "groups");
        if (C % L.groups != 0)
          throw std::runtime_error(Name(i) + ": " + std::to_string(C) + " channels do not split into " + std::to_string(L.groups) + " groups");
        number(2, 0, "epsilon");
        const bool center = flag(3, "center"), scale = flag(4, "scale");
        if (scale) param(C, true, 1.f);   // gamma
        if (center) param(C, true, 0.f);  // beta
        L.outH = H, L.outW = W, L.outC = C;
        const int64_t stats = Count(who + " statistics", {maxBatch, L.groups});
        later(2 * stats, 4, [stats](Layer& l) { l.mean.resize(size_t(stats)), l.invStd.resize(size_t(stats)); });
        break;
      }
      case kReluLayer: {  // [15, max_value (-1: none), negative_slope, threshold]: Keras' ReLU layer
        need(4);
        if (s[1] != -1) number(1, 0, "max_value (or -1 for none)");
        L.maxValue = float(s[1]);
        L.slope = float(number(2, 0, "negative_slope"));
        L.threshold = float(number(3, 0, "threshold"));
        L.outH = H, L.outW = W, L.outC = C;
        break;
      }
      case kActivation:  // [4, act]
        need(2);
        L.act = activation(1);
        L.outH = H, L.outW = W, L.outC = C;
        break;
      case kMaxPool:    // [5, ph, pw, sh, sw, same]
      case kAvgPool: {  // [8, ph, pw, sh, sw, same]
        need(6);
        L.ph = integer(1, 1, "pool height"), L.pw = integer(2, 1, "pool width");
        L.psh = integer(3, 1, "stride height"), L.psw = integer(4, 1, "stride width");
        const bool same = flag(5, "padding (same)");
        Window(H, L.ph, L.psh, 1, same, &L.outH, &L.ppt);
        Window(W, L.pw, L.psw, 1, same, &L.outW, &L.ppl);
        L.outC = C;
        if (L.kind == kMaxPool) {
          const int64_t count = Count(who + " argmax", {maxBatch, L.outH, L.outW, C});
          later(count, 4, [count](Layer& l) { l.argmax.resize(size_t(count)); });
        }
        break;
      }
      case kGlobalAvgPool:  // [9]
      case kGlobalMaxPool:  // [10]
        need(1);
        L.outH = 1, L.outW = 1, L.outC = C;
        if (L.kind == kGlobalMaxPool) {
          later(maxBatch * C, 4, [maxBatch, C](Layer& l) { l.argmax.resize(size_t(maxBatch * C)); });
        }
        break;
      case kZeroPad: {  // [11, top, bottom, left, right]
        need(5);
        const int64_t top = integer(1, 0, "top padding"), bottom = integer(2, 0, "bottom padding"), left = integer(3, 0, "left padding"),
                      right = integer(4, 0, "right padding");
        L.ppt = top, L.ppl = left;
        L.outH = H + top + bottom, L.outW = W + left + right, L.outC = C;
        break;
      }
      case kLeakyRelu:  // [13, alpha]
        need(2);
        L.alpha = float(number(1, -INFINITY, "alpha"));
        L.outH = H, L.outW = W, L.outC = C;
        break;
      case kSpatialDropout:  // [12, rate]: one mask value per image and channel
        need(2);
        if (!(s[1] >= 0 && s[1] < 1)) throw std::runtime_error(Name(i) + ": SpatialDropout2D rate must be in [0, 1)");
        L.outH = H, L.outW = W, L.outC = C;
        later(maxBatch * C, 4, [maxBatch, C](Layer& l) { l.mask.resize(size_t(maxBatch * C)); });
        break;
      case kDropout:  // [6, rate]
        need(2);
        if (!(s[1] >= 0 && s[1] < 1)) throw std::runtime_error(Name(i) + ": Dropout rate must be in [0, 1)");
        L.outH = H, L.outW = W, L.outC = C;
        later(maxBatch * H * W * C, 4, [count = maxBatch * H * W * C](Layer& l) { l.mask.resize(size_t(count)); });
        break;
      case kFlatten:  // [7]
        need(1);
        L.outH = 1, L.outW = 1, L.outC = Count(who + " output", {H, W, C});
        break;
      case kDepthwise:
      case kSeparable:
        SetUpDepthwise(L, i, maxBatch, slotFill);
        break;
      case kAdd: case kConcat: case kMultiply: case kAverage: case kMaximum: case kSubtract:  // [kind]: GraphInputs set the shape
        need(1);
        break;
      default:
        throw std::runtime_error(Name(i) + ": unknown layer kind " + std::to_string(L.kind));
    }
    if (L.act == kSoftmax && i + 1 != specs.size()) throw std::runtime_error(Name(i) + ": softmax is only supported on the last layer");
    if (L.outH < 1 || L.outW < 1 || L.outC < 1) throw std::runtime_error(Name(i) + ": output would be empty");
    const int64_t outElems = Count(who + " output", {maxBatch, L.outH, L.outW, L.outC});
    const bool pre = Smooth(L.act) && (L.kind == kConv || L.kind == kDense);
    later(outElems, pre ? 8 : 4, [outElems, pre](Layer& l) {
      if (pre) l.pre.resize(size_t(outElems));
      l.out.resize(size_t(outElems));
    });
    maxElems = std::max(maxElems, outElems);
    H = L.outH, W = L.outW, C = L.outC;
    layers_.push_back(std::move(L));
  }
  if (layers_.empty() || layers_.back().act != kSoftmax) throw std::runtime_error("the last layer must end with a softmax");
  bytes += uint64_t(maxElems) * 8 + uint64_t(maxBf16Grad) * sizeof(Bf16);  // the gradient buffers
  if (graph_) bytes += GraphBackwardSetUp();
  if (budget && bytes > budget)
    throw std::runtime_error("the fused step would need " + std::to_string(bytes >> 20) + " MB, more than this machine's " +
                             std::to_string(budget >> 20) + " MB");
  for (auto& allocate : allocations) allocate();
  for (size_t i = 0; graph_ && i + 1 < layers_.size(); i++) dOut_[i].resize(size_t(maxBatch * layers_[i].outSize()));
  gradA_.resize(size_t(maxElems));
  gradB_.resize(size_t(maxElems));
  gradBf16_.resize(size_t(maxBf16Grad));
}

std::vector<int64_t> Trainer::OutputShape(size_t i) const {
  const Layer& L = layers_.at(i);
  return {L.outH, L.outW, L.outC};
}

// C = op(A) · op(B) (+ beta·C), row-major: oneDNN's SGEMM where it is built in (conv.h: about twice OpenBLAS' speed on
// the Dense shapes here), else OpenBLAS split over the rows of C (or of A's columns for a transposed A) so
// each thread runs a single-threaded SGEMM on its block.
void Trainer::Gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, float beta) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  if (DnnlSgemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, N)) return;
  const int T = int(std::min<int64_t>(threads_, std::max<int64_t>(1, M / 16)));
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t per = (M + nt - 1) / nt, m0 = std::min(M, t * per), m1 = std::min(M, m0 + per);
    if (m1 > m0)
      sgemm_(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, blasint(m1 - m0), blasint(N), blasint(K), 1.f,
             A + (ta ? m0 : m0 * K), blasint(lda), B, blasint(ldb), beta, C + m0 * N, blasint(N));
  }
}

void Trainer::Forward(const float* x, int64_t n) {
  const float* in = x;
  const int T = threads_;
  for (size_t i = 0; i < layers_.size(); i++) {
    const Clock::time_point layerStart = Clock::now();
    size_t skip = 0;  // how many of the next layers this one also did
    Layer& L = layers_[i];
    if (graph_) in = Src(L.inputs[0], x);
    float* out = L.out.data();
    const int64_t inSize = L.inSize(), outSize = L.outSize();
    switch (L.kind) {
      case kConv: {
        L.conv.n = n;
        const float* bias = L.params.size() > 1 ? L.params[1].w.data() : nullptr;
        ConvForwardIn(L.conv, in, L.inBf16.empty() ? nullptr : L.inBf16.data(), L.params[0].w.data(), bias,
                      Smooth(L.act) ? L.pre.data() : out, L.act == kRelu, T);
        break;
      }
      case kDense: {
        const int64_t units = L.outC;
        float* z = Smooth(L.act) ? L.pre.data() : out;
        Gemm(false, false, n, units, inSize, in, L.params[0].w.data(), z, 0.f);
        passes::BiasRelu(z, n, units, L.params.size() > 1 ? L.params[1].w.data() : nullptr, L.act == kRelu, T);
        break;
      }
      case kBatchNorm:
        // A ReLU Activation right after is applied in the same pass, into its own output (its layer is skipped),
        // and a 2×2 max pooling after that too, into the pooling's output (PoolFused).
        skip = PoolFused(i) ? 2 : ReluFollows(i) ? 1 : 0;
        if (skip) out = layers_[i + skip].out.data();
        ForwardBatchNorm(L, in, n, out, skip > 0, skip == 2 ? &layers_[i + 2] : nullptr);
        break;
      case kActivation: {
        const int64_t total = n * inSize;
        if (L.act == kRelu) {
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t k = 0; k < total; k++) out[k] = in[k] > 0 ? in[k] : 0;
        } else if (Smooth(L.act)) {
          const int act = L.act;
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t k = 0; k < total; k++) out[k] = ActF(act, in[k]);
        } else {
          std::memcpy(out, in, sizeof(float) * size_t(total));
        }
        break;
      }
      case kLeakyRelu: {
        const int64_t total = n * inSize;
        const float alpha = L.alpha;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) out[k] = in[k] > 0 ? in[k] : alpha * in[k];
        break;
      }
      case kReluLayer:
        passes::ReluLayer(L, in, n * inSize, out, T);
        break;
      case kGroupNorm:
        passes::GroupNorm(L, in, n, out, L.mean.data(), L.invStd.data(), T);
        break;
      case kAvgPool:
        passes::AvgPool(L, in, n, out, T);
        break;
      case kGlobalAvgPool:
      case kGlobalMaxPool:
        passes::GlobalPool(L, in, n, out, L.argmax.data(), T);
        break;
      case kZeroPad:
        passes::ZeroPad(L, in, n, out, T);
        break;
      case kSpatialDropout: {
        const int64_t C = L.inC, P = L.inH * L.inW;
        float* mask = L.mask.data();
        DropoutMask(seed_, ++dropoutCalls_, L.cfg[1], n * C, mask, T);
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++)
          for (int64_t q = 0; q < P; q++)
            for (int64_t j = 0; j < C; j++) out[(img * P + q) * C + j] = in[(img * P + q) * C + j] * mask[img * C + j];
        break;
      }
      case kMaxPool:
        passes::MaxPool(L, in, n, out, L.argmax.data(), T);
        break;
      case kDropout: {
        const int64_t total = n * inSize;
        float* mask = L.mask.data();
        DropoutMask(seed_, ++dropoutCalls_, L.cfg[1], total, mask, T);
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) out[k] = in[k] * mask[k];
        break;
      }
      case kFlatten:
        std::memcpy(out, in, sizeof(float) * size_t(n * inSize));
        break;
      case kDepthwise:
      case kSeparable:
        DepthwiseForward(L, in, n, L.mid.data(), Smooth(L.act) ? L.pre.data() : nullptr, out);
        break;
      case kAdd: case kConcat: case kMultiply: case kAverage: case kMaximum: case kSubtract: {
        std::vector<const float*> ins;
        for (int64_t j : L.inputs) ins.push_back(Src(j, x));
        MergeForward(L, ins, n, out);
        break;
      }
    }
    if (Smooth(L.act) && (L.kind == kConv || L.kind == kDense)) {
      const int64_t total = n * outSize;
      const int act = L.act;
      const float* z = L.pre.data();
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t k = 0; k < total; k++) out[k] = ActF(act, z[k]);
    }
    if (L.act == kSoftmax) passes::Softmax(out, n, L.outSize(), T);
    profile_[ProfileCategory(L.kind)] += Since(layerStart);
    in = out;
    i += skip;
  }
}

void Trainer::Backward(const float* x, const int32_t* labels, int64_t n, StepResult* r) {
  const int T = threads_;
  const Clock::time_point lossStart = Clock::now();
  Layer& last = layers_.back();
  const int64_t K = last.outSize();
  const float* p = last.out.data();
  float* g = gradA_.data();  // ∂L/∂(pre-softmax logits) of the last layer
  double lossSum = 0;
  int64_t correct = 0;
  std::vector<double> dp(static_cast<size_t>(K));
  for (int64_t row = 0; row < n; row++) {
    const float* pr = p + row * K;
    const int64_t t = labels[row];
    double s = 0;
    int64_t best = 0;
    for (int64_t j = 0; j < K; j++) {
      s += pr[j];
      if (pr[j] > pr[best]) best = j;
    }
    if (best == t) correct++;
    // tfjs: loss = -log(clip(p_t / Σp, ε, 1 - ε)); the clip passes no gradient where it bites.
    const double q = pr[t] / s, c = std::min(std::max(q, kProbEpsilon), 1 - kProbEpsilon);
    lossSum += -std::log(c);
    const double dq = (q > kProbEpsilon && q < 1 - kProbEpsilon) ? -1.0 / (double(n) * q) : 0.0;
    // ∂L/∂p_j through the normalisation, then through the softmax: dz_j = p_j (dp_j − Σ_k p_k dp_k).
    double dot = 0;
    double* d = dp.data();
    for (int64_t j = 0; j < K; j++) {
      d[j] = dq * ((j == t ? 1.0 / s : 0.0) - pr[t] / (s * s));
      dot += pr[j] * d[j];
    }
    for (int64_t j = 0; j < K; j++) g[row * K + j] = float(pr[j] * (d[j] - dot));
  }
  r->loss = lossSum / double(n);
  r->accuracy = double(correct) / double(n);

  profile_[3 * kProfileCategories] += Since(lossStart);

  float* other = gradB_.data();
  bool preActivation = true;  // g is already the gradient before the last layer's softmax
  bool reluMaskPending = false;  // a fused ReLU's backward pass is left to the BatchNorm before it
  for (size_t i = layers_.size(); i-- > 0;) {
    const Clock::time_point layerStart = Clock::now();
    Layer& L = layers_[i];
    // A graph: g is this layer's summed gradient (the loss's for the last), dx goes straight to the input's
    // gradient when this is its first reader in this pass, else through `other` and is added to it below.
    if (graph_ && i + 1 < layers_.size()) g = dOut_[i].data();
    const float* in = graph_ ? Src(L.inputs[0], x) : i == 0 ? x : layers_[i - 1].out.data();
    const float* out = L.out.data();
    const int64_t inSize = L.inSize(), outSize = L.outSize();
    const bool wantDx = graph_ ? L.inputs[0] >= 0 && L.kind < kAdd : i > 0;
    float* dx = graph_ && wantDx && L.firstGrad[0] ? dOut_[size_t(L.inputs[0])].data() : other;
    if (L.act == kRelu && !preActivation && L.kind != kActivation) {
      const int64_t total = n * outSize;
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t k = 0; k < total; k++) g[k] = out[k] > 0 ? g[k] : 0.f;
    }
    if (Smooth(L.act) && (L.kind == kConv || L.kind == kDense)) {
      const int64_t total = n * outSize;
      const int act = L.act;
      const float* z = L.pre.data();
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t k = 0; k < total; k++) g[k] *= ActD(act, z[k], out[k]);
    }
    switch (L.kind) {
      case kConv: {
        L.conv.n = n;
        float* dbias = L.params.size() > 1 ? L.params[1].grad.data() : nullptr;
        // mixed_bfloat16: both passes read g rounded once; a geometry oneDNN refuses falls back to float32.
        const Bf16* gb = nullptr;
        if (!L.inBf16.empty()) ToBf16(g, n * outSize, gradBf16_.data(), T), gb = gradBf16_.data();
        if (!gb || !DnnlConvBackwardFilterBf16(L.conv, L.inBf16.data(), gb, L.params[0].grad.data(), dbias))
          ConvBackwardFilter(L.conv, in, g, L.params[0].grad.data(), dbias);
        if (wantDx && (!gb || !DnnlConvBackwardDataBf16(L.conv, gb, L.params[0].w.data(), dx)))
          ConvBackwardData(L.conv, g, L.params[0].w.data(), dx);
        break;
      }
      case kDense: {
        const int64_t units = L.outC;
        // dW[inSize, units] = inᵀ · g, split over dW's rows (in's columns).
        Gemm(true, false, inSize, units, n, in, g, L.params[0].grad.data(), 0.f);
        if (L.params.size() > 1) {
          float* db = L.params[1].grad.data();
          for (int64_t j = 0; j < units; j++) db[j] = 0;
          for (int64_t row = 0; row < n; row++)
            for (int64_t j = 0; j < units; j++) db[j] += g[row * units + j];
        }
        if (wantDx) Gemm(false, true, n, inSize, units, g, L.params[0].w.data(), dx, 0.f);
        break;
      }
      case kBatchNorm: {
        const int64_t C = L.inC, rows = n * L.inH * L.inW;
        const float* mean = L.mean.data();
        const float* inv = L.invStd.data();
        const bool center = L.cfg[3] != 0, scale = L.cfg[4] != 0;
        const float* gamma = scale ? L.params[0].w.data() : nullptr;
        std::vector<double> sumG, sumGx;  // Σ g and Σ g·x̂ per channel
        if (reluMaskPending) {
          // The ReLU after this layer (fused into its forward pass) left its mask here: y = x·a + b > 0, with the
          // forward pass's own a and b, so the mask is recomputed from x instead of read from the ReLU's output,
          // and the masked gradient written back over g in the pass that sums it — two streams over the
          // activation fewer than a separate ReLU pass (0.4–0.6 ms less per 128×28×28×32, two threads).
          reluMaskPending = false;
          std::vector<float> a(C), b(C);
          const float* beta = center ? L.params[scale ? 1 : 0].w.data() : nullptr;
          AffineOf(L, gamma, beta, a.data(), b.data());
          const float *pa = a.data(), *pb = b.data();
          RowSums(
              rows, C, T,
              [g, in, mean, inv, pa, pb, C](int64_t r, float* __restrict b1, float* __restrict b2) {
                const float* xr = in + r * C;
                float* gr = g + r * C;
                for (int64_t j = 0; j < C; j++) {
                  const float v = xr[j] * pa[j] + pb[j] > 0 ? gr[j] : 0.f;
                  gr[j] = v;
                  b1[j] += v;
                  b2[j] += v * (xr[j] - mean[j]) * inv[j];
                }
              },
              &sumG, &sumGx);
        } else {
          ChannelSums(
              rows, C, T, [g, C](int64_t r, int64_t j) { return g[r * C + j]; },
              [g, in, mean, inv, C](int64_t r, int64_t j) { return g[r * C + j] * (in[r * C + j] - mean[j]) * inv[j]; }, &sumG, &sumGx);
        }
        std::vector<float> dbeta(C), dgamma(C), k1(C), k2(C), k3(C);
        for (int64_t j = 0; j < C; j++) {
          const double sgs = sumG[j], sgxs = sumGx[j];
          dbeta[j] = float(sgs), dgamma[j] = float(sgxs);
          // dx = γ·inv · (g − Σg/M − x̂ · Σ(g·x̂)/M), with x̂ = (x − mean)·inv
          const double gi = (gamma ? gamma[j] : 1.0) * inv[j];
          k1[j] = float(gi);
          k2[j] = float(gi * sgs / double(rows));
          k3[j] = float(gi * sgxs / double(rows) * inv[j]);
        }
        if (scale) std::copy(dgamma.begin(), dgamma.end(), L.params[0].grad.begin());
        if (center) std::copy(dbeta.begin(), dbeta.end(), L.params[scale ? 1 : 0].grad.begin());
        if (wantDx) {
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t r = 0; r < rows; r++) {
            const float* xr = in + r * C;
            const float* gr = g + r * C;
            float* d = dx + r * C;
            for (int64_t j = 0; j < C; j++) d[j] = gr[j] * k1[j] - k2[j] - (xr[j] - mean[j]) * k3[j];
          }
        }
        break;
      }
      case kActivation: {
        const int64_t total = n * inSize;
        dx = g;  // elementwise: in place, no second buffer to stream through
        if (L.act == kRelu && !preActivation && i > 0 && ReluFollows(i - 1)) {
          reluMaskPending = true;  // the BatchNorm before, which computed this ReLU, applies its mask (next layer)
        } else if (L.act == kRelu && !preActivation) {
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t k = 0; k < total; k++) dx[k] = out[k] > 0 ? g[k] : 0.f;
        } else if (Smooth(L.act)) {
          const int act = L.act;
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t k = 0; k < total; k++) dx[k] = g[k] * ActD(act, in[k], out[k]);
        }
        break;
      }
      case kLeakyRelu: {
        const int64_t total = n * inSize;
        const float alpha = L.alpha;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) dx[k] = in[k] > 0 ? g[k] : alpha * g[k];
        break;
      }
      case kReluLayer: {
        const int64_t total = n * inSize;
        const float mx = L.maxValue, slope = L.slope, th = L.threshold;
        const bool capped = mx >= 0;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) {
          const float v = in[k];
          dx[k] = capped && v >= mx ? 0.f : v > th ? g[k] : slope * g[k];
        }
        break;
      }
      case kGroupNorm: {
        const int64_t C = L.inC, P = L.inH * L.inW, G = L.groups, Cg = C / G;
        const bool center = L.cfg[3] != 0, scale = L.cfg[4] != 0;
        const float* gamma = scale ? L.params[0].w.data() : nullptr;
        const float* mean = L.mean.data();
        const float* inv = L.invStd.data();
        // x̂ of element (row r = image · P + pixel, channel j), from its image's and group's statistics.
        auto xhat = [=](int64_t r, int64_t j) {
          const int64_t k = (r / P) * G + j / Cg;
          return (in[r * C + j] - mean[k]) * inv[k];
        };
        if (scale || center) {
          std::vector<double> sumG, sumGx;  // dβ = Σ g, dγ = Σ g·x̂ per channel
          ChannelSums(
              n * P, C, T, [g, C](int64_t r, int64_t j) { return g[r * C + j]; },
              [g, C, xhat](int64_t r, int64_t j) { return g[r * C + j] * xhat(r, j); }, &sumG, &sumGx);
          if (scale) std::transform(sumGx.begin(), sumGx.end(), L.params[0].grad.begin(), [](double v) { return float(v); });
          if (center) std::transform(sumG.begin(), sumG.end(), L.params[scale ? 1 : 0].grad.begin(), [](double v) { return float(v); });
        }
        if (wantDx) {
          // dx = inv · (d − mean(d) − x̂ · mean(d · x̂)) with d = g · γ, the means over the image's group.
          const double count = double(P * Cg);
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t img = 0; img < n; img++) {
            for (int64_t grp = 0; grp < G; grp++) {
              const int64_t k = img * G + grp;
              double s1 = 0, s2 = 0;
              for (int64_t q = 0; q < P; q++) {
                const int64_t r = img * P + q;
                for (int64_t j = grp * Cg; j < (grp + 1) * Cg; j++) {
                  const double d = double(g[r * C + j]) * (gamma ? gamma[j] : 1.f);
                  s1 += d, s2 += d * ((in[r * C + j] - mean[k]) * inv[k]);
                }
              }
              const float m1 = float(s1 / count), m2 = float(s2 / count), a = inv[k], mu = mean[k];
              for (int64_t q = 0; q < P; q++) {
                const int64_t r = img * P + q;
                for (int64_t j = grp * Cg; j < (grp + 1) * Cg; j++) {
                  const float d = g[r * C + j] * (gamma ? gamma[j] : 1.f), xh = (in[r * C + j] - mu) * a;
                  dx[r * C + j] = a * (d - m1 - xh * m2);
                }
              }
            }
          }
        }
        break;
      }
      case kAvgPool: {
        const int64_t C = L.inC, OH = L.outH, OW = L.outW;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++) {
          float* di = dx + img * inSize;
          std::memset(di, 0, sizeof(float) * size_t(inSize));
          for (int64_t y = 0; y < OH; y++) {
            for (int64_t xo = 0; xo < OW; xo++) {
              const float* gi = g + img * outSize + (y * OW + xo) * C;
              int64_t count = 0;  // the pixels the forward pass averaged
              ForWindow(L, y, xo, [&](int64_t) { count++; });
              const float inv = count ? 1.f / float(count) : 0.f;
              ForWindow(L, y, xo, [&](int64_t at) {
                for (int64_t j = 0; j < C; j++) di[at + j] += gi[j] * inv;
              });
            }
          }
        }
        break;
      }
      case kGlobalAvgPool:
      case kGlobalMaxPool: {
        const int64_t C = L.inC, P = L.inH * L.inW;
        const bool avg = L.kind == kGlobalAvgPool;
        const int32_t* arg = L.argmax.data();
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++) {
          float* di = dx + img * inSize;
          const float* gi = g + img * C;
          if (avg) {
            for (int64_t q = 0; q < P; q++)
              for (int64_t j = 0; j < C; j++) di[q * C + j] = gi[j] / float(P);
          } else {
            std::memset(di, 0, sizeof(float) * size_t(inSize));
            for (int64_t j = 0; j < C; j++) di[arg[img * C + j]] += gi[j];
          }
        }
        break;
      }
      case kZeroPad: {
        const int64_t H = L.inH, W = L.inW, C = L.inC, OW = L.outW;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++)
          for (int64_t y = 0; y < H; y++)
            std::memcpy(dx + img * inSize + y * W * C, g + img * outSize + ((y + L.ppt) * OW + L.ppl) * C, sizeof(float) * size_t(W * C));
        break;
      }
      case kSpatialDropout: {
        const int64_t C = L.inC, P = L.inH * L.inW;
        const float* mask = L.mask.data();
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++)
          for (int64_t q = 0; q < P; q++)
            for (int64_t j = 0; j < C; j++) dx[(img * P + q) * C + j] = g[(img * P + q) * C + j] * mask[img * C + j];
        break;
      }
      case kMaxPool: {
        const int32_t* arg = L.argmax.data();
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t img = 0; img < n; img++) {
          float* di = dx + img * inSize;
          std::memset(di, 0, sizeof(float) * size_t(inSize));
          const float* gi = g + img * outSize;
          const int32_t* ai = arg + img * outSize;
          for (int64_t k = 0; k < outSize; k++)
            if (ai[k] >= 0) di[ai[k]] += gi[k];
        }
        break;
      }
      case kDropout: {
        const int64_t total = n * inSize;
        const float* mask = L.mask.data();
        dx = g;  // in place
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) dx[k] = g[k] * mask[k];
        break;
      }
      case kFlatten:
        dx = g;  // the same NHWC bytes: nothing to do
        break;
      case kDepthwise:
      case kSeparable:
        DepthwiseBackward(L, in, g, n, wantDx ? dx : nullptr);
        break;
      case kAdd: case kConcat: case kMultiply: case kAverage: case kMaximum: case kSubtract:
        MergeBackward(L, x, g, n);
        break;
    }
    preActivation = false;
    if (!graph_) {
      if (dx != g) std::swap(g, other);  // else the layer worked in place: g already holds its input's gradient
    } else if (wantDx && (dx == g || !L.firstGrad[0])) {
      // A graph: the input's gradient, computed here in place or in `other`, written to or added into its buffer.
      float* d = dOut_[size_t(L.inputs[0])].data();
      const bool add = !L.firstGrad[0];
      const int64_t total = n * inSize;
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t k = 0; k < total; k++) d[k] = add ? d[k] + dx[k] : dx[k];
    }
    profile_[kProfileCategories + ProfileCategory(L.kind)] += Since(layerStart);
  }
}

namespace {
void AdamPass(float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t size, float b1, float b2,
              float c1, float c2, float flr, float fe, int T, int* finite) {
  int ok = 1;
#pragma omp parallel for num_threads(T) schedule(static) reduction(& : ok) if (size > 16384)
  for (int64_t k = 0; k < size; k++) {
    m[k] = b1 * m[k] + (1 - b1) * g[k];
    v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
    w[k] -= flr * (m[k] * c1) / (std::sqrt(v[k] * c2) + fe);
    ok &= (w[k] - w[k] == 0.f) ? 1 : 0;  // false for ±inf and NaN, as std::isfinite, without a call
  }
  *finite &= ok;
}
}  // namespace

bool Trainer::Update(double lr) {
  step_++;
  const int T = threads_;
  const int kind = int(optimizer_[0]);
  const bool adam = kind == kAdam;
  const double a = optimizer_[1], b = optimizer_[2], eps = optimizer_[3];
  // tfjs Adam: m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t), w −= lr · m̂ / (√v̂ + ε)
  const bool betas = adam || kind == kAdamax;
  const float c1 = betas ? float(1.0 / (1.0 - std::pow(a, double(step_)))) : 0.f;
  const float c2 = adam ? float(1.0 / (1.0 - std::pow(b, double(step_)))) : 0.f;
  const float b1 = float(a), b2 = float(b), fe = float(eps), flr = float(lr);
  const bool nesterov = kind == kSgd && b != 0;
  int finite = 1;
  for (Layer& L : layers_) {
    for (Param& p : L.params) {
      const int64_t size = int64_t(p.w.size());
      float* w = p.w.data();
      if (!p.trainable) {
        for (int64_t k = 0; k < size; k++) finite &= std::isfinite(w[k]) ? 1 : 0;
        continue;
      }
      const float* g = p.grad.data();
      float* m = p.m.data();
      float* v = p.v.data();
      if (adam) {
        // Adam, the default, in a loop of its own: the per-element choice of optimizer below keeps a loop scalar
        // (1.0 ms per lesson step for 468,586 weights; ~0.15 ms vectorized). Same arithmetic in the same order.
        AdamPass(w, g, m, v, size, b1, b2, c1, c2, flr, fe, T, &finite);
        continue;
      }
#pragma omp parallel for num_threads(T) schedule(static) reduction(& : finite) if (size > 16384)
      for (int64_t k = 0; k < size; k++) {
        if (kind == kRmsprop) {
          // tfjs RMSProp: ms = ρ·ms + (1 − ρ)·g²; mom = μ·mom + lr·g / √(ms + ε); w −= mom
          m[k] = b1 * m[k] + (1 - b1) * g[k] * g[k];
          v[k] = b2 * v[k] + flr * g[k] / std::sqrt(m[k] + fe);
          w[k] -= v[k];
        } else if (kind == kAdagrad) {
          // tfjs Adagrad: acc += g²; w −= lr · g / √(acc + 1e-7)
          m[k] += g[k] * g[k];
          w[k] -= flr * g[k] / std::sqrt(m[k] + fe);
        } else if (kind == kAdamax) {
          // tfjs Adamax: m = β1·m + (1 − β1)·g; u = max(β2·u, |g|); w −= lr / (1 − β1^t) · m / (u + ε)
          m[k] = b1 * m[k] + (1 - b1) * g[k];
          v[k] = std::max(b2 * v[k], std::fabs(g[k]));
          w[k] -= flr * c1 * m[k] / (v[k] + fe);
        } else if (a == 0) {
          w[k] -= flr * g[k];
        } else {
          // tfjs momentum: accum = μ·accum + g; w −= lr·accum (Nesterov: lr·(g + μ·accum))
          m[k] = b1 * m[k] + g[k];
          w[k] -= flr * (nesterov ? g[k] + b1 * m[k] : m[k]);
        }
        finite &= std::isfinite(w[k]) ? 1 : 0;
      }
    }
  }
  return finite != 0;
}

StepResult Trainer::Step(const float* x, const int32_t* labels, int64_t n, double lr) {
  if (n < 1 || n > maxBatch_) throw std::runtime_error("batch of " + std::to_string(n) + " images: expected 1.." + std::to_string(maxBatch_));
  const int64_t K = layers_.back().outSize();
  for (int64_t r = 0; r < n; r++)
    if (labels[r] < 0 || labels[r] >= K) throw std::runtime_error("label " + std::to_string(labels[r]) + " outside [0, " + std::to_string(K) + ")");
  StepResult r;
  Forward(x, n);
  Backward(x, labels, n, &r);
  const Clock::time_point updateStart = Clock::now();
  r.finite = Update(lr);
  profile_[3 * kProfileCategories + 1] += Since(updateStart);
  profile_[3 * kProfileCategories + 2] += 1;
  return r;
}

}  // namespace cnnwb

// ---- Inference (Trainer::Infer): the forward pass as tfjs' predict() runs it, for validation, evaluation,
// prediction and export checks. Kept apart from Forward, which must keep the training semantics (batch
// statistics, Dropout masks, buffers the backward pass reads); here each layer reads one ping-pong buffer and
// writes the other (or works in place), so the memory is two chunks of activations whatever n is.
namespace cnnwb {

int64_t Trainer::FirstLayerInferCannotRun() const {
  for (size_t i = 0; i < layers_.size(); i++) {
    switch (layers_[i].kind) {
      case kConv: case kDense: case kBatchNorm: case kActivation: case kMaxPool: case kDropout: case kFlatten: case kAvgPool:
      case kGlobalAvgPool: case kGlobalMaxPool: case kZeroPad: case kSpatialDropout: case kLeakyRelu: case kDepthwise: case kSeparable:
      case kReluLayer: case kGroupNorm:
      case kAdd: case kConcat: case kMultiply: case kAverage: case kMaximum: case kSubtract:
        break;
      default:
        return int64_t(i);
    }
  }
  return -1;
}

namespace {

// BatchNorm in inference mode as y = x·a + b per channel: a = γ / √(moving variance + ε), b = β − moving mean · a.
void InferenceAffine(const Layer& L, std::vector<float>* a, std::vector<float>* b) {
  const int64_t C = L.inC;
  const bool center = L.cfg[3] != 0, scale = L.cfg[4] != 0;
  const double eps = L.cfg[2];
  const float* gamma = scale ? L.params[0].w.data() : nullptr;
  const float* beta = center ? L.params[scale ? 1 : 0].w.data() : nullptr;
  const float* movingMean = L.params[L.params.size() - 2].w.data();
  const float* movingVar = L.params[L.params.size() - 1].w.data();
  a->resize(size_t(C));
  b->resize(size_t(C));
  for (int64_t j = 0; j < C; j++) {
    const double s = (gamma ? double(gamma[j]) : 1.0) / std::sqrt(double(movingVar[j]) + eps);
    (*a)[j] = float(s);
    (*b)[j] = float((beta ? double(beta[j]) : 0.0) - double(movingMean[j]) * s);
  }
}

}  // namespace

void Trainer::Infer(const float* x, int64_t n, float* y) {
  const int64_t bad = FirstLayerInferCannotRun();
  if (bad >= 0) throw std::runtime_error(Name(size_t(bad)) + ": layer kind " + std::to_string(layers_[size_t(bad)].kind) + " has no inference pass");
  if (n < 1) return;
  const int T = threads_;
  const size_t count = layers_.size();
  int64_t widest = layers_.front().inSize();
  for (const Layer& L : layers_) widest = std::max(widest, L.outSize());
  if (inferA_.size() < size_t(kInferChunk * widest)) {
    inferA_.assign(size_t(kInferChunk * widest), 0.f);
    inferB_.assign(size_t(kInferChunk * widest), 0.f);
  }
  const bool anyBf16 = std::any_of(layers_.begin(), layers_.end(), [](const Layer& L) { return !L.inBf16.empty(); });
  if (anyBf16 && inferBf16_.size() < size_t(kInferChunk * widest)) inferBf16_.resize(size_t(kInferChunk * widest));
  // Conv (linear) → BatchNorm: the BatchNorm's affine map folded into the convolution's weights and bias, once
  // per call (the weights may have changed since the last one). `fused[i]` = how many following layers layer i
  // absorbed (the BatchNorm, and a ReLU Activation after it, which becomes the convolution's post-op).
  foldW_.assign(count, {});
  foldB_.assign(count, {});
  std::vector<int> fused(count, 0);
  std::vector<bool> foldRelu(count, false);
  std::vector<std::vector<float>> affA(count), affB(count);
  for (size_t i = 0; i < count; i++) {
    const Layer& L = layers_[i];
    if (L.kind == kBatchNorm) InferenceAffine(L, &affA[i], &affB[i]);
  }
  for (size_t i = 0; i + 1 < count; i++) {
    const Layer& L = layers_[i];
    if (L.kind != kConv || L.act != kLinear || layers_[i + 1].kind != kBatchNorm || !OnlyFeedsNext(i)) continue;
    const int64_t F = L.outC, K = L.conv.K();
    const std::vector<float>& a = affA[i + 1];
    const std::vector<float>& b = affB[i + 1];
    const float* w = L.params[0].w.data();
    const float* bias = L.params.size() > 1 ? L.params[1].w.data() : nullptr;
    foldW_[i].resize(size_t(K * F));
    foldB_[i].resize(size_t(F));
    for (int64_t k = 0; k < K; k++)
      for (int64_t f = 0; f < F; f++) foldW_[i][size_t(k * F + f)] = w[k * F + f] * a[f];
    for (int64_t f = 0; f < F; f++) foldB_[i][size_t(f)] = (bias ? bias[f] : 0.f) * a[f] + b[f];
    fused[i] = 1;
    if (i + 2 < count && layers_[i + 2].kind == kActivation && layers_[i + 2].act == kRelu && OnlyFeedsNext(i + 1)) fused[i] = 2, foldRelu[i] = true;
  }

  float* A = inferA_.data();
  float* B = inferB_.data();
  const int64_t inSize0 = layers_.front().inSize(), K = layers_.back().outSize();
  for (int64_t start = 0; start < n; start += kInferChunk) {
    const int64_t m = std::min(kInferChunk, n - start);
    const float* xc = x + start * inSize0;
    const float* cur = xc;
    // Where a layer writes: the buffer `cur` is not in; in place when it may (never into the caller's x).
    // A graph instead keeps each layer's output in a pool buffer of its own until its last reader has run.
    std::vector<const float*> res(graph_ ? count : 0);
    std::vector<int64_t> slotOf(res.size(), -1), refs(inferPool_.size(), 0);
    std::vector<bool> inUse(inferPool_.size(), false);
    float* mine = nullptr;  // graph: the current layer's buffer, taken on first use
    auto take = [&]() {
      if (mine) return mine;
      size_t k = 0;
      while (k < inUse.size() && inUse[k]) k++;
      if (k == inUse.size()) inferPool_.emplace_back(size_t(kInferChunk * widest)), inUse.push_back(false), refs.push_back(0);
      inUse[k] = true;
      return mine = inferPool_[k].data();
    };
    // graph: layers first..last ran (a fused group) and left their output in `cur`.
    auto finish = [&](size_t first, size_t last) {
      res[last] = cur;
      for (size_t k = 0; k < inferPool_.size(); k++)
        if (inferPool_[k].data() == cur) slotOf[last] = int64_t(k), refs[k] += layers_[last].consumers;
      for (int64_t j : layers_[first].inputs)
        if (j >= 0 && slotOf[size_t(j)] >= 0) refs[size_t(slotOf[size_t(j)])]--;
      for (size_t k = 0; k < inferPool_.size(); k++)
        if (inUse[k] && refs[k] <= 0 && size_t(slotOf[last]) != k) inUse[k] = false;
      mine = nullptr;
    };
    auto other = [&]() { return graph_ ? take() : cur == A ? B : A; };
    auto inPlace = [&]() { return graph_ ? take() : cur == xc ? A : const_cast<float*>(cur); };
    for (size_t i = 0; i < count; i++) {
      const Layer& L = layers_[i];
      const size_t first = i;
      if (graph_) cur = L.inputs[0] < 0 ? xc : res[size_t(L.inputs[0])];
      const int64_t inSize = L.inSize(), outSize = L.outSize();
      const Clock::time_point layerStart = Clock::now();
      float* out = nullptr;
      switch (L.kind) {
        case kConv: {
          Conv g = L.conv;
          g.n = m;
          out = other();
          const float* w = fused[i] ? foldW_[i].data() : L.params[0].w.data();
          const float* bias = fused[i] ? foldB_[i].data() : L.params.size() > 1 ? L.params[1].w.data() : nullptr;
          const bool relu = fused[i] ? foldRelu[i] : L.act == kRelu;
          // mixed_bfloat16: Keras predicts under the policy too.
          ConvForwardIn(g, cur, L.inBf16.empty() ? nullptr : inferBf16_.data(), w, bias, out, relu, T);
          break;
        }
        case kDense: {
          const int64_t units = L.outC;
          out = other();
          Gemm(false, false, m, units, inSize, cur, L.params[0].w.data(), out, 0.f);
          passes::BiasRelu(out, m, units, L.params.size() > 1 ? L.params[1].w.data() : nullptr, L.act == kRelu, T);
          break;
        }
        case kBatchNorm: {
          const int64_t C = L.inC, rows = m * L.inH * L.inW;
          const float* a = affA[i].data();
          const float* b = affB[i].data();
          // A ReLU Activation right after is applied in the same pass.
          const bool relu = i + 1 < count && layers_[i + 1].kind == kActivation && layers_[i + 1].act == kRelu && OnlyFeedsNext(i);
          out = inPlace();
          passes::ChannelAffine(cur, rows, C, a, b, relu, out, T);
          if (relu) {
            cur = out;
            i++;  // the ReLU is done
            profile_[2 * kProfileCategories + kProfileBatchNorm] += Since(layerStart);
            if (graph_) finish(first, i);
            continue;
          }
          break;
        }
        case kActivation: {
          const int64_t total = m * inSize;
          if (L.act == kLinear || L.act == kSoftmax) {
            out = const_cast<float*>(cur);  // softmax follows below, on a copy when cur is the caller's x
            if (L.act == kSoftmax && cur == xc) std::memcpy(out = A, cur, sizeof(float) * size_t(total));
            break;
          }
          out = inPlace();
          const float* in = cur;
          const int act = L.act;
          if (act == kRelu) {
#pragma omp parallel for num_threads(T) schedule(static)
            for (int64_t k = 0; k < total; k++) out[k] = in[k] > 0 ? in[k] : 0;
          } else {
#pragma omp parallel for num_threads(T) schedule(static)
            for (int64_t k = 0; k < total; k++) out[k] = ActF(act, in[k]);
          }
          break;
        }
        case kLeakyRelu: {
          const int64_t total = m * inSize;
          const float alpha = L.alpha;
          out = inPlace();
          const float* in = cur;
#pragma omp parallel for num_threads(T) schedule(static)
          for (int64_t k = 0; k < total; k++) out[k] = in[k] > 0 ? in[k] : alpha * in[k];
          break;
        }
        case kMaxPool:
          out = other();
          passes::MaxPool(L, cur, m, out, nullptr, T);
          break;
        case kAvgPool:
          out = other();
          passes::AvgPool(L, cur, m, out, T);
          break;
        case kGlobalAvgPool:
        case kGlobalMaxPool:
          out = other();
          passes::GlobalPool(L, cur, m, out, nullptr, T);
          break;
        case kZeroPad:
          out = other();
          passes::ZeroPad(L, cur, m, out, T);
          break;
        case kReluLayer:
          out = inPlace();
          passes::ReluLayer(L, cur, m * inSize, out, T);
          break;
        case kGroupNorm: {
          // Per image, as in training: its statistics go to scratch (the training buffers are the backward pass's).
          std::vector<float> mean(size_t(m * L.groups)), inv(size_t(m * L.groups));
          out = other();
          passes::GroupNorm(L, cur, m, out, mean.data(), inv.data(), T);
          break;
        }
        case kDropout:
        case kSpatialDropout:
        case kFlatten:
          out = const_cast<float*>(cur);  // identity at inference; Flatten is the same NHWC bytes
          break;
        case kDepthwise:
        case kSeparable:
          out = other();
          if (L.kind == kSeparable && inferMid_.size() < size_t(kInferChunk * L.point.h * L.point.w * L.point.c))
            inferMid_.resize(size_t(kInferChunk * L.point.h * L.point.w * L.point.c));
          DepthwiseForward(L, cur, m, inferMid_.data(), nullptr, out);
          break;
        case kAdd: case kConcat: case kMultiply: case kAverage: case kMaximum: case kSubtract: {
          std::vector<const float*> ins;
          for (int64_t j : L.inputs) ins.push_back(j < 0 ? xc : res[size_t(j)]);
          out = take();
          MergeForward(L, ins, m, out);
          break;
        }
      }
      cur = out;
      if (Smooth(L.act) && (L.kind == kConv || L.kind == kDense)) {
        float* o = inPlace();
        const int act = L.act;
        const int64_t total = m * outSize;
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t k = 0; k < total; k++) o[k] = ActF(act, cur[k]);
        cur = o;
      }
      if (L.act == kSoftmax) passes::Softmax(const_cast<float*>(cur), m, outSize, T);
      profile_[2 * kProfileCategories + ProfileCategory(L.kind)] += Since(layerStart);
      i += size_t(fused[i]);
      if (graph_) finish(first, i);
    }
    std::memcpy(y + start * K, cur, sizeof(float) * size_t(m * K));
  }
  profile_[3 * kProfileCategories + 3] += double(n);
}

std::vector<double> Trainer::Profile(bool reset) {
  std::vector<double> out(std::begin(profile_), std::end(profile_));
  if (reset) std::fill(std::begin(profile_), std::end(profile_), 0.0);
  return out;
}

}  // namespace cnnwb

// ---- BatchNorm's forward pass in training (batch statistics), with a following ReLU fused in: one read and one
// write fewer over the largest activations (the lesson CNN has four such pairs). Backward, the ReLU's mask is
// applied by BatchNorm's backward pass (see kBatchNorm in Backward), recomputed from the same a and b.
namespace cnnwb {

// BatchNorm in training as y = x·a + b per channel, from the batch statistics: the forward pass applies it, and a
// fused ReLU's backward pass recomputes its mask (y > 0) from the same values.
void Trainer::AffineOf(const Layer& L, const float* gamma, const float* beta, float* a, float* b) {
  for (int64_t j = 0; j < L.inC; j++) {
    a[j] = L.invStd[j] * (gamma ? gamma[j] : 1.f);
    b[j] = (beta ? beta[j] : 0.f) - L.mean[j] * a[j];
  }
}

bool Trainer::PoolFused(size_t i) const {
  return !graph_ && ReluFollows(i) && i + 2 < layers_.size() && layers_[i + 2].kind == kMaxPool && passes::MaxPoolIs2x2(layers_[i + 2]);
}

bool Trainer::ReluFollows(size_t i) const {
  return layers_[i].kind == kBatchNorm && i + 1 < layers_.size() && layers_[i + 1].kind == kActivation && layers_[i + 1].act == kRelu &&
         OnlyFeedsNext(i);
}

void Trainer::ForwardBatchNorm(Layer& L, const float* in, int64_t n, float* out, bool relu, Layer* pool) {
  const int T = threads_;
  const int64_t C = L.inC, rows = n * L.inH * L.inW;
  std::vector<double> sum, sq;
  ChannelSums(
      rows, C, T, [in, C](int64_t r, int64_t j) { return in[r * C + j]; },
      [in, C](int64_t r, int64_t j) { return in[r * C + j] * in[r * C + j]; }, &sum, &sq);
  const double momentum = L.cfg[1], eps = L.cfg[2];
  const bool center = L.cfg[3] != 0, scale = L.cfg[4] != 0;
  const float* gamma = scale ? L.params[0].w.data() : nullptr;
  const float* beta = center ? L.params[scale ? 1 : 0].w.data() : nullptr;
  float* movingMean = L.params[L.params.size() - 2].w.data();
  float* movingVar = L.params[L.params.size() - 1].w.data();
  std::vector<float> a(C), b(C);
  for (int64_t j = 0; j < C; j++) {
    const double mean = sum[j] / double(rows), var = std::max(0.0, sq[j] / double(rows) - mean * mean);
    L.mean[j] = float(mean);
    L.invStd[j] = float(1.0 / std::sqrt(var + eps));
    // tfjs layers: moving = moving - (moving - batch) · (1 - momentum), with the batch's biased variance.
    movingMean[j] = float(movingMean[j] - (movingMean[j] - mean) * (1 - momentum));
    movingVar[j] = float(movingVar[j] - (movingVar[j] - var) * (1 - momentum));
  }
  AffineOf(L, gamma, beta, a.data(), b.data());
  if (pool) passes::AffineReluMaxPool(*pool, in, n, a.data(), b.data(), out, pool->argmax.data(), T);
  else passes::ChannelAffine(in, rows, C, a.data(), b.data(), relu, out, T);
}

}  // namespace cnnwb

// ---- Depthwise and separable convolutions (tfjs DepthwiseConv2D / SeparableConv2D, NHWC, channels last):
// depthwise out[·, y, x, c·M + q] = Σ_{a,b} in[·, y·sh − pt + a·dh, x·sw − pl + b·dw, c] · k[a, b, c, q]; a separable
// layer follows it (no bias) with a 1×1 convolution (the existing oneDNN / im2col path) that has the bias.
namespace cnnwb {
namespace {

// Calls fn(a, b, at) for each tap of output (y, x)'s window inside the image, `at` being the offset of the input
// pixel's first channel within the image (padding contributes nothing, as in tfjs).
template <typename Fn>
void ForTaps(const Conv& g, int64_t y, int64_t x, Fn fn) {
  for (int64_t a = 0; a < g.kh; a++) {
    const int64_t iy = y * g.sh - g.pt + a * g.dh;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t b = 0; b < g.kw; b++) {
      const int64_t ix = x * g.sw - g.pl + b * g.dw;
      if (ix >= 0 && ix < g.w) fn(a, b, (iy * g.w + ix) * g.c);
    }
  }
}

void DepthwiseConvForward(const Conv& g, int64_t n, const float* x, const float* k, const float* bias, float* y, int T) {
  const int64_t C = g.c, M = g.oc / g.c, OC = g.oc, inSize = g.h * g.w * C, outSize = g.oh * g.ow * OC;
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    const float* xi = x + img * inSize;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        float* o = y + img * outSize + (oy * g.ow + ox) * OC;
        for (int64_t j = 0; j < OC; j++) o[j] = bias ? bias[j] : 0.f;
        ForTaps(g, oy, ox, [&](int64_t a, int64_t b, int64_t at) {
          const float* px = xi + at;
          const float* kk = k + (a * g.kw + b) * OC;
          if (M == 1) {
            for (int64_t c = 0; c < C; c++) o[c] += px[c] * kk[c];
          } else {
            for (int64_t c = 0; c < C; c++)
              for (int64_t q = 0; q < M; q++) o[c * M + q] += px[c] * kk[c * M + q];
          }
        });
      }
    }
  }
}

// dk = Σ over images and pixels of x · dy (per-thread partial sums in double, images split over threads);
// db = Σ dy when not null; dx (when not null) = the transposed scatter of dy through k.
void DepthwiseConvBackward(const Conv& g, int64_t n, const float* x, const float* k, const float* dy, float* dk, float* db, float* dx, int T) {
  const int64_t C = g.c, M = g.oc / g.c, OC = g.oc, inSize = g.h * g.w * C, outSize = g.oh * g.ow * OC, K = g.kh * g.kw * OC;
  std::vector<double> part(size_t(T * (K + OC)), 0.0);
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    std::vector<float> pk(size_t(K), 0.f), pb(size_t(OC), 0.f);
#pragma omp for schedule(static)
    for (int64_t img = 0; img < n; img++) {
      const float* xi = x + img * inSize;
      float* di = dx ? dx + img * inSize : nullptr;
      if (di) std::memset(di, 0, sizeof(float) * size_t(inSize));
      for (int64_t oy = 0; oy < g.oh; oy++) {
        for (int64_t ox = 0; ox < g.ow; ox++) {
          const float* go = dy + img * outSize + (oy * g.ow + ox) * OC;
          for (int64_t j = 0; j < OC; j++) pb[j] += go[j];
          ForTaps(g, oy, ox, [&](int64_t a, int64_t b, int64_t at) {
            const float* px = xi + at;
            float* pkk = pk.data() + (a * g.kw + b) * OC;
            const float* kk = k + (a * g.kw + b) * OC;
            if (M == 1) {
              for (int64_t c = 0; c < C; c++) pkk[c] += px[c] * go[c];
              if (di)
                for (int64_t c = 0; c < C; c++) di[at + c] += go[c] * kk[c];
            } else {
              for (int64_t c = 0; c < C; c++) {
                float s = 0;
                for (int64_t q = 0; q < M; q++) {
                  pkk[c * M + q] += px[c] * go[c * M + q];
                  s += go[c * M + q] * kk[c * M + q];
                }
                if (di) di[at + c] += s;
              }
            }
          });
        }
      }
    }
    double* mine = part.data() + size_t(t) * size_t(K + OC);
    for (int64_t j = 0; j < K; j++) mine[j] += pk[j];
    for (int64_t j = 0; j < OC; j++) mine[K + j] += pb[j];
  }
  for (int64_t j = 0; j < K; j++) {
    double s = 0;
    for (int t = 0; t < T; t++) s += part[size_t(t) * size_t(K + OC) + size_t(j)];
    dk[j] = float(s);
  }
  if (db) {
    for (int64_t j = 0; j < OC; j++) {
      double s = 0;
      for (int t = 0; t < T; t++) s += part[size_t(t) * size_t(K + OC) + size_t(K + j)];
      db[j] = float(s);
    }
  }
}

}  // namespace

void Trainer::SetUpDepthwise(Layer& L, size_t i, int64_t maxBatch, float slotFill) {
  const std::vector<double>& s = L.cfg;
  const bool sep = L.kind == kSeparable;
  if (s.size() != (sep ? 12u : 11u)) throw std::runtime_error(Name(i) + ": expected " + std::to_string(sep ? 12 : 11) + " numbers");
  const size_t o = sep ? 2 : 1;  // where depthMultiplier is
  const int64_t M = int64_t(s[o]), kh = int64_t(s[o + 1]), kw = int64_t(s[o + 2]), sh = int64_t(s[o + 3]), sw = int64_t(s[o + 4]),
                dh = int64_t(s[o + 5]), dw = int64_t(s[o + 6]);
  if (M < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1)
    throw std::runtime_error(Name(i) + ": depth multiplier, kernel, strides and dilation must be ≥ 1");
  const bool same = s[o + 7] != 0, useBias = s[o + 8] != 0;
  L.act = int(s[o + 9]);
  const int64_t H = L.inH, W = L.inW, C = L.inC;
  int64_t oh, ow, pt, pl;
  Window(H, kh, sh, dh, same, &oh, &pt);
  Window(W, kw, sw, dw, same, &ow, &pl);
  L.conv = Conv{0, H, W, C, kh, kw, C * M, oh, ow, sh, sw, dh, dw, pt, pl};
  auto param = [&](size_t size) {
    Param p;
    p.w.assign(size, 0.f);
    p.grad.assign(size, 0.f);
    p.m.assign(size, slotFill);
    p.v.assign(size, 0.f);
    L.params.push_back(std::move(p));
  };
  param(size_t(kh * kw * C * M));  // depthwise kernel [kh, kw, C, M]
  if (sep) {
    const int64_t F = int64_t(s[1]);
    if (F < 1) throw std::runtime_error(Name(i) + ": filters must be ≥ 1");
    L.point = Conv{0, oh, ow, C * M, 1, 1, F, oh, ow, 1, 1, 1, 1, 0, 0};
    param(size_t(C * M * F));  // pointwise kernel [1, 1, C·M, F]
    if (useBias) param(size_t(F));
    L.mid.resize(size_t(maxBatch * oh * ow * C * M));
    L.dmid.resize(L.mid.size());
    L.outH = oh, L.outW = ow, L.outC = F;
  } else {
    if (useBias) param(size_t(C * M));
    L.outH = oh, L.outW = ow, L.outC = C * M;
  }
  if (Smooth(L.act)) L.pre.resize(size_t(maxBatch * L.outSize()));
}

void Trainer::DepthwiseForward(const Layer& L, const float* in, int64_t n, float* mid, float* pre, float* out) {
  const int T = threads_;
  const bool smooth = Smooth(L.act), relu = L.act == kRelu;
  float* z = smooth && pre ? pre : out;  // the output before a smooth activation
  if (L.kind == kSeparable) {
    DepthwiseConvForward(L.conv, n, in, L.params[0].w.data(), nullptr, mid, T);
    Conv p = L.point;
    p.n = n;
    ConvForward(p, mid, L.params[1].w.data(), L.params.size() > 2 ? L.params[2].w.data() : nullptr, z, relu);
  } else {
    DepthwiseConvForward(L.conv, n, in, L.params[0].w.data(), L.params.size() > 1 ? L.params[1].w.data() : nullptr, z, T);
    if (relu) {
      const int64_t total = n * L.outSize();
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t k = 0; k < total; k++) z[k] = z[k] > 0 ? z[k] : 0.f;
    }
  }
  if (smooth) {
    const int64_t total = n * L.outSize();
    const int act = L.act;
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t k = 0; k < total; k++) out[k] = ActF(act, z[k]);
  }
}

void Trainer::DepthwiseBackward(Layer& L, const float* in, float* g, int64_t n, float* dx) {
  const int T = threads_;
  if (Smooth(L.act)) {  // (a ReLU's mask was applied to g by the caller, as for Conv2D)
    const int64_t total = n * L.outSize();
    const int act = L.act;
    const float* z = L.pre.data();
    const float* out = L.out.data();
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t k = 0; k < total; k++) g[k] *= ActD(act, z[k], out[k]);
  }
  if (L.kind == kSeparable) {
    Conv p = L.point;
    p.n = n;
    ConvBackwardFilter(p, L.mid.data(), g, L.params[1].grad.data(), L.params.size() > 2 ? L.params[2].grad.data() : nullptr);
    ConvBackwardData(p, g, L.params[1].w.data(), L.dmid.data());
    DepthwiseConvBackward(L.conv, n, in, L.params[0].w.data(), L.dmid.data(), L.params[0].grad.data(), nullptr, dx, T);
  } else {
    DepthwiseConvBackward(L.conv, n, in, L.params[0].w.data(), g, L.params[0].grad.data(), L.params.size() > 1 ? L.params[1].grad.data() : nullptr, dx, T);
  }
}

}  // namespace cnnwb

// ---- Graphs: layers that read any earlier layers' outputs (Keras' Functional models: residual and Inception
// blocks). Forward reads each layer's input from its source's `out` (kept for the whole step, as in a straight
// list); Backward gives every layer but the last a gradient buffer (dOut_) that its readers sum into, the first
// reader in the backward order writing it. Merge layers: Add, Concatenate (channel axis), Multiply, Average,
// Maximum, Subtract, as tfjs computes them (Average: the sum times 1/k; Maximum: pairwise from the first input,
// so a tie sends the gradient to the earliest input, as tf.maximum's gradient does).
namespace cnnwb {

void Trainer::GraphInputs(Layer& L, size_t i, const std::vector<double>& ids, int64_t h, int64_t w, int64_t c, int64_t* H, int64_t* W,
                          int64_t* C) {
  const bool merge = L.kind >= kAdd;
  const char* names[] = {"Add", "Concatenate", "Multiply", "Average", "Maximum", "Subtract"};
  const std::string what = merge ? names[L.kind - kAdd] : "this layer";
  if (merge ? (L.kind == kSubtract ? ids.size() != 2 : ids.size() < 2) : ids.size() != 1)
    throw std::runtime_error(Name(i) + ": " + what + " takes " + (merge ? (L.kind == kSubtract ? "exactly 2" : "2 or more") : "exactly 1") +
                             " inputs, the graph gives " + std::to_string(ids.size()));
  std::vector<int64_t> shape[2];
  for (size_t k = 0; k < ids.size(); k++) {
    if (!IsInt(ids[k]) || ids[k] < -1 || ids[k] >= double(i))
      throw std::runtime_error(Name(i) + ": input " + Show(ids[k]) + " must be -1 (the model's input) or an earlier layer, 0.." +
                               std::to_string(int64_t(i) - 1));
    L.inputs.push_back(int64_t(ids[k]));
  }
  auto shapeOf = [&](int64_t j) -> std::vector<int64_t> {
    if (j < 0) return {h, w, c};
    const Layer& S = layers_[size_t(j)];
    return {S.outH, S.outW, S.outC};
  };
  auto show = [&](int64_t j) {
    const std::vector<int64_t> s = shapeOf(j);
    return (j < 0 ? std::string("the input") : Name(size_t(j))) + " [" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ", " +
           std::to_string(s[2]) + "]";
  };
  shape[0] = shapeOf(L.inputs[0]);
  *H = shape[0][0], *W = shape[0][1], *C = shape[0][2];
  int64_t channels = 0;
  for (int64_t j : L.inputs) {
    shape[1] = shapeOf(j);
    const bool same = L.kind == kConcat ? shape[1][0] == *H && shape[1][1] == *W : shape[1] == shape[0];
    if (!same)
      throw std::runtime_error(Name(i) + ": " + what + (L.kind == kConcat ? " needs the same height and width" : " needs inputs of one shape") +
                               ": " + show(L.inputs[0]) + " and " + show(j));
    channels = Count(Name(i) + " output", {channels + shape[1][2]});
  }
  for (int64_t j : L.inputs)
    if (j >= 0) layers_[size_t(j)].consumers++;
  if (merge) L.outH = *H, L.outW = *W, L.outC = L.kind == kConcat ? channels : *C;
}

bool Trainer::OnlyFeedsNext(size_t i) const {
  if (!graph_) return true;
  return i + 1 < layers_.size() && layers_[i].consumers == 1 && layers_[i + 1].inputs.size() == 1 && layers_[i + 1].inputs[0] == int64_t(i);
}

uint64_t Trainer::GraphBackwardSetUp() {
  std::vector<bool> seen(layers_.size(), false);
  uint64_t bytes = 0;
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer& L = layers_[i];
    if (i + 1 < layers_.size() && L.consumers == 0)
      throw std::runtime_error(Name(i) + ": its output reaches no later layer (only the last layer, the model's output, may be unread)");
    L.firstGrad.assign(L.inputs.size(), false);
    for (size_t k = 0; k < L.inputs.size(); k++) {
      const int64_t j = L.inputs[k];
      if (j >= 0 && !seen[size_t(j)]) L.firstGrad[k] = true, seen[size_t(j)] = true;
    }
    if (i + 1 < layers_.size()) bytes += uint64_t(Count(Name(i) + " gradient", {maxBatch_, L.outH, L.outW, L.outC})) * 4;
  }
  dOut_.resize(layers_.size());
  return bytes;
}

void Trainer::MergeForward(const Layer& L, const std::vector<const float*>& ins, int64_t n, float* out) const {
  const int T = threads_;
  const size_t K = ins.size();
  if (L.kind == kConcat) {
    const int64_t rows = n * L.outH * L.outW, OC = L.outC;
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      int64_t at = 0;
      for (size_t k = 0; k < K; k++) {
        const int64_t Ck = L.inputs[k] < 0 ? layers_.front().inC : layers_[size_t(L.inputs[k])].outC;
        std::memcpy(out + r * OC + at, ins[k] + r * Ck, sizeof(float) * size_t(Ck));
        at += Ck;
      }
    }
    return;
  }
  const int64_t total = n * L.outSize();
  const int kind = L.kind;
  const float inv = 1.f / float(K);
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t e = 0; e < total; e++) {
    float v = ins[0][e];
    for (size_t k = 1; k < K; k++) {
      const float u = ins[k][e];
      v = kind == kMultiply ? v * u : kind == kMaximum ? (v >= u ? v : u) : kind == kSubtract ? v - u : v + u;
    }
    out[e] = kind == kAverage ? v * inv : v;
  }
}

void Trainer::MergeBackward(const Layer& L, const float* x, const float* g, int64_t n) {
  const int T = threads_;
  const size_t K = L.inputs.size();
  std::vector<const float*> ins;
  for (int64_t j : L.inputs) ins.push_back(Src(j, x));
  int64_t at = 0;  // Concatenate: the input's first channel in the output
  for (size_t k = 0; k < K; k++) {
    const int64_t j = L.inputs[k];
    const int64_t Ck = j < 0 ? layers_.front().inC : layers_[size_t(j)].outC;
    if (j < 0) {  // the model's input needs no gradient
      at += Ck;
      continue;
    }
    float* d = dOut_[size_t(j)].data();
    const bool add = !L.firstGrad[k];
    if (L.kind == kConcat) {
      const int64_t rows = n * L.outH * L.outW, OC = L.outC;
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t r = 0; r < rows; r++) {
        const float* gr = g + r * OC + at;
        float* dr = d + r * Ck;
        for (int64_t q = 0; q < Ck; q++) dr[q] = (add ? dr[q] : 0.f) + gr[q];
      }
      at += Ck;
      continue;
    }
    const int64_t total = n * L.outSize();
    const int kind = L.kind;
    const float scale = kind == kAverage ? 1.f / float(K) : kind == kSubtract && k == 1 ? -1.f : 1.f;
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t e = 0; e < total; e++) {
      float v = g[e] * scale;
      if (kind == kMultiply) {
        for (size_t q = 0; q < K; q++)
          if (q != k) v *= ins[q][e];
      } else if (kind == kMaximum) {
        size_t win = 0;  // the first input holding the maximum
        for (size_t q = 1; q < K; q++)
          if (ins[q][e] > ins[win][e]) win = q;
        if (win != k) v = 0.f;
      }
      d[e] = (add ? d[e] : 0.f) + v;
    }
  }
}

}  // namespace cnnwb
