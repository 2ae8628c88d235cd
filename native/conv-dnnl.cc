// Convolutions through oneDNN (Debian's libdnnl, the library PyTorch's CPU convolutions use): JIT kernels for
// the CPU's widest SIMD (AVX-512 here), where im2col + OpenBLAS SGEMM is limited by the small channel counts of
// a CNN. Built only when dnnl.h is found (CNNWB_DNNL); otherwise every function returns false.
#include "conv.h"

#ifdef CNNWB_DNNL
#include <omp.h>

#include <map>
#include <memory>
#include <string>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <type_traits>
#include <vector>

namespace cnnwb {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& Engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Primitives are built once per geometry and kept: building one (JIT compile) costs far more than running it.
// Per JS thread (tfjs runs on the main thread or one worker), so no locking and each owns its scratch memory.
struct Key {
  int kind;  // 0 forward, 1 backward data, 2 backward filter, 3 backward data as a forward convolution
  int flags;
  Conv g;
  bool operator<(const Key& o) const {
    auto t = [](const Key& k) {
      const Conv& c = k.g;
      return std::make_tuple(k.kind, k.flags, c.n, c.h, c.w, c.c, c.kh, c.kw, c.oc, c.oh, c.ow, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl);
    };
    return t(*this) < t(o);
  }
};

struct Entry {
  dnnl::primitive prim;
  memory::desc userWeights;    // [kH, kW, C, outC] as tfjs stores it
  memory::desc primWeights;    // what the primitive wants (often blocked)
  std::unique_ptr<memory> weights;  // primWeights-shaped buffer when it differs from userWeights
  dnnl::reorder toPrim, fromPrim;
  memory::desc act, out;
  std::vector<float> turned;  // kind 3: the filter turned 180° with its channels swapped (TurnFilter)
};

thread_local std::map<Key, Entry> t_cache;
bool g_enabled = true;

constexpr int kBf16Flag = 4;  // Key::flags: the mixed_bfloat16 variant (see conv.h)

struct Descs {
  memory::desc src, dst, wAny, userW, bias;
  memory::dims strides, dil, pl, pr;
};

// The descriptors of one pass. bf16 (mixed_bfloat16): what the convolution reads — the input and the output's
// gradient, the filter — is bfloat16; what it writes — the output, the input's gradient, the filter's — float32,
// so only reads lose precision and every layer around it stays float32. kind: 0 forward, 1 backward data,
// 2 backward filter, 3 backward data as a forward convolution (DataAsForward: float32, the filter [kH, kW, outC, C]
// and the padding mirrored); src and dst name the activations' descriptors as the pass uses them.
Descs MakeDescs(const Conv& g, int kind, bool bf16) {
  Descs d;
  const dt half = bf16 ? dt::bf16 : dt::f32;
  const bool turned = kind == 3;
  d.src = memory::desc({g.n, g.c, g.h, g.w}, kind == 1 || turned ? dt::f32 : half, tag::nhwc);
  d.dst = memory::desc({g.n, g.oc, g.oh, g.ow}, kind == 0 || turned ? dt::f32 : half, tag::nhwc);
  const memory::dims w = turned ? memory::dims{g.c, g.oc, g.kh, g.kw} : memory::dims{g.oc, g.c, g.kh, g.kw};
  d.wAny = memory::desc(w, kind == 2 || turned ? dt::f32 : half, tag::any);
  d.userW = memory::desc(w, dt::f32, tag::hwio);
  d.bias = memory::desc({g.oc}, dt::f32, tag::x);
  d.strides = {g.sh, g.sw};
  d.dil = {g.dh - 1, g.dw - 1};  // oneDNN counts dilation from 0
  d.pl = {g.pt, g.pl};
  d.pr = {g.pb(), g.pr()};
  if (turned) d.pl = {g.kh - 1 - g.pt, g.kw - 1 - g.pl}, d.pr = {g.kh - 1 - g.pb(), g.kw - 1 - g.pr()};
  return d;
}

dnnl::convolution_forward::primitive_desc ForwardPd(const Descs& d, bool bias, bool relu) {
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  auto desc = bias ? dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src, d.wAny, d.bias,
                                                      d.dst, d.strides, d.dil, d.pl, d.pr)
                   : dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src, d.wAny, d.dst,
                                                      d.strides, d.dil, d.pl, d.pr);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, Engine());
  // One input channel (a grayscale image's first layer): oneDNN 2.6 ranks its brgconv kernel first, but for NHWC
  // with C = 1 that took 2.2× the time of the next (jit) one (1.98 vs 0.89 ms for 128 28×28 images → 32 filters,
  // one thread, median of 38 alternating runs), so take the jit kernel when there is one.
  if (d.src.dims()[1] == 1 && std::string(pd.impl_info_str()).rfind("brgconv", 0) == 0) {
    if (pd.next_impl() && std::string(pd.impl_info_str()).rfind("jit", 0) == 0) return pd;
    return dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
  }
  return pd;
}

void PrepareWeights(Entry& e, const memory::desc& primW, const memory::desc& userW, bool toPrim) {
  e.userWeights = userW;
  e.primWeights = primW;
  if (primW != userW) {
    e.weights = std::make_unique<memory>(primW, Engine());
    memory u(userW, Engine(), DNNL_MEMORY_NONE);
    if (toPrim) e.toPrim = dnnl::reorder(u, *e.weights);
    else e.fromPrim = dnnl::reorder(*e.weights, u);
  }
}

// Backward data for stride 1 is a forward convolution of dy with the filter turned 180° and its channels swapped,
// padded by (k − 1) − p (MakeDescs, kind 3). oneDNN 2.6 has a brgconv kernel only for the forward pass, and the
// backward-data one is slower: isolated, two threads, medians of 21 (128 images): 32→32 at 28×28 4.53 / 4.74 →
// 4.28 / 4.32 ms, 32→64 at 14×14 2.27 / 2.63 → 2.02 / 1.97, 64→64 at 14×14 4.51 / 4.55 → 4.03 / 3.96. Few input
// channels (the forward's output channels) are left to the backward-data kernel, and so are dilated filters: tfjs
// cannot differentiate those, so there is no reference to test this formulation against (native.test.ts).
bool DataAsForward(const Conv& g) {
  return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.c >= 16 && g.pt < g.kh && g.pb() < g.kh && g.pl < g.kw && g.pr() < g.kw;
}

// The filter turned 180° with its channels swapped, [kH, kW, C, outC] → [kH, kW, outC, C], into t (kind 3).
void TurnFilter(const Conv& g, const float* w, float* t) {
  const int64_t KH = g.kh, KW = g.kw, C = g.c, OC = g.oc;
  for (int64_t a = 0; a < KH; a++)
    for (int64_t b = 0; b < KW; b++)
      for (int64_t o = 0; o < OC; o++)
        for (int64_t i = 0; i < C; i++) t[((a * KW + b) * OC + o) * C + i] = w[(((KH - 1 - a) * KW + (KW - 1 - b)) * C + i) * OC + o];
}

Entry* Get(int kind, int flags, const Conv& g) {
  // Negative trailing padding ('valid' with a stride that drops rows) is left to im2col.
  if (!g_enabled || g.pb() < 0 || g.pr() < 0) return nullptr;
  Key key{kind, flags, g};
  auto it = t_cache.find(key);
  if (it != t_cache.end()) return &it->second;
  try {
    const bool bf16 = flags & kBf16Flag;
    // oneDNN emulates bfloat16 on CPUs without its instructions (slower than float32): refused there.
    if (bf16 && !DnnlHasBf16()) return nullptr;
    Descs d = MakeDescs(g, kind, bf16);
    Entry e;
    if (kind == 3) {
      // dy in, dx out (DataAsForward)
      dnnl::convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, d.dst, d.wAny, d.src, d.strides,
                                           d.dil, d.pl, d.pr);
      dnnl::convolution_forward::primitive_desc pd(desc, Engine());
      e.prim = dnnl::convolution_forward(pd);
      PrepareWeights(e, pd.weights_desc(), d.userW, true);
      e.turned.resize(size_t(g.kh * g.kw * g.c * g.oc));
    } else if (kind == 0) {
      auto pd = ForwardPd(d, flags & 1, flags & 2);
      e.prim = dnnl::convolution_forward(pd);
      PrepareWeights(e, pd.weights_desc(), d.userW, true);
    } else {
      auto hint = ForwardPd(MakeDescs(g, 0, bf16), kind == 2 && (flags & 1), false);
      if (kind == 1) {
        dnnl::convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.wAny, d.dst, d.strides, d.dil, d.pl, d.pr);
        dnnl::convolution_backward_data::primitive_desc pd(desc, Engine(), hint);
        e.prim = dnnl::convolution_backward_data(pd);
        PrepareWeights(e, pd.weights_desc(), d.userW, true);
      } else {
        auto desc = (flags & 1) ? dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.wAny, d.bias, d.dst,
                                                                           d.strides, d.dil, d.pl, d.pr)
                                : dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.wAny, d.dst,
                                                                           d.strides, d.dil, d.pl, d.pr);
        dnnl::convolution_backward_weights::primitive_desc pd(desc, Engine(), hint);
        e.prim = dnnl::convolution_backward_weights(pd);
        PrepareWeights(e, pd.diff_weights_desc(), d.userW, false);
      }
    }
    e.act = d.src;
    e.out = d.dst;
    return &t_cache.emplace(key, std::move(e)).first->second;
  } catch (const dnnl::error&) {
    return nullptr;  // an unsupported geometry: im2col handles it
  }
}

dnnl::stream& Stream() {
  thread_local dnnl::stream s(Engine());
  return s;
}

// A oneDNN view of a caller's buffer (float32, or bfloat16 for what a mixed_bfloat16 pass reads).
template <typename T>
memory Mem(const memory::desc& d, const T* p) {
  return memory(d, Engine(), const_cast<T*>(p));
}

// The filter as the primitive wants it: the user's [kH, kW, C, outC] buffer, or its reordered copy.
memory PrimWeights(Entry* e, dnnl::stream& s, const float* w) {
  memory wu = Mem(e->userWeights, w);
  if (!e->weights) return wu;
  e->toPrim.execute(s, wu, *e->weights);
  return *e->weights;
}

// Each pass once, for what the convolution reads (x, dy) in float32 or, under mixed_bfloat16, in bfloat16 (Key::flags
// kBf16Flag); what it writes is float32 either way (MakeDescs).
template <typename In>
constexpr int ReadFlag() {
  return std::is_same_v<In, Bf16> ? kBf16Flag : 0;
}

template <typename In>
bool Forward(const Conv& g, const In* x, const float* w, const float* bias, float* y, bool relu) {
  Entry* e = Get(0, ReadFlag<In>() | (bias ? 1 : 0) | (relu ? 2 : 0), g);
  if (!e) return false;
  auto& s = Stream();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, Mem(e->act, x)}, {DNNL_ARG_WEIGHTS, PrimWeights(e, s, w)}, {DNNL_ARG_DST, Mem(e->out, y)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, Mem(memory::desc({g.oc}, dt::f32, tag::x), bias));
  e->prim.execute(s, args);
  s.wait();
  return true;
}

template <typename In>
bool BackwardData(const Conv& g, const In* dy, const float* w, float* dx) {
  if constexpr (std::is_same_v<In, float>) {
    if (Entry* f = DataAsForward(g) ? Get(3, 0, g) : nullptr) {
      TurnFilter(g, w, f->turned.data());
      auto& s = Stream();
      f->prim.execute(s, {{DNNL_ARG_SRC, Mem(f->out, dy)}, {DNNL_ARG_WEIGHTS, PrimWeights(f, s, f->turned.data())}, {DNNL_ARG_DST, Mem(f->act, dx)}});
      s.wait();
      return true;
    }
  }
  Entry* e = Get(1, ReadFlag<In>(), g);
  if (!e) return false;
  auto& s = Stream();
  e->prim.execute(s, {{DNNL_ARG_DIFF_DST, Mem(e->out, dy)}, {DNNL_ARG_WEIGHTS, PrimWeights(e, s, w)}, {DNNL_ARG_DIFF_SRC, Mem(e->act, dx)}});
  s.wait();
  return true;
}

// dbias = Σ dy over images and pixels, per output channel: float sums per image, added up in double.
void BiasGrad(const Conv& g, const float* dy, float* dbias) {
  const int64_t C = g.oc, P = g.pixels();
  std::vector<double> total(size_t(C), 0.0);
#pragma omp parallel
  {
    std::vector<float> img(static_cast<size_t>(C));
    std::vector<double> mine(size_t(C), 0.0);
#pragma omp for schedule(static) nowait
    for (int64_t n = 0; n < g.n; n++) {
      std::fill(img.begin(), img.end(), 0.f);
      float* s = img.data();
      for (int64_t q = 0; q < P; q++) {
        const float* d = dy + (n * P + q) * C;
        for (int64_t j = 0; j < C; j++) s[j] += d[j];
      }
      for (int64_t j = 0; j < C; j++) mine[size_t(j)] += s[j];
    }
#pragma omp critical
    for (int64_t j = 0; j < C; j++) total[size_t(j)] += mine[size_t(j)];
  }
  for (int64_t j = 0; j < C; j++) dbias[j] = float(total[size_t(j)]);
}

template <typename In>
bool BackwardFilter(const Conv& g, const In* x, const In* dy, float* dw, float* dbias) {
  // Float32: oneDNN 2.6's jit kernel sums the bias gradient slowly in NHWC, so it is summed here instead. Isolated
  // on two threads (medians of 21, 128 images): 1→32 at 28×28 1.65 → 0.33 ms without the bias (session 5), 32→32
  // at 28×28 6.80 → 5.19, 64→64 at 14×14 5.28 → 4.68, 32→64 2.60 → 2.43; summing it here costs ~0.3 ms per
  // 12.8 MB of dy. The bf16 kernel's bias costs nothing (32→32 2.93 with, 3.22 without), so it keeps it.
  const bool ownBias = std::is_same_v<In, float> && dbias;
  Entry* e = Get(2, ReadFlag<In>() | (dbias && !ownBias ? 1 : 0), g);
  if (!e) return false;
  if constexpr (std::is_same_v<In, float>)
    if (ownBias) BiasGrad(g, dy, dbias);
  auto& s = Stream();
  memory wu = Mem(e->userWeights, dw);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, Mem(e->act, x)}, {DNNL_ARG_DIFF_DST, Mem(e->out, dy)},
                                       {DNNL_ARG_DIFF_WEIGHTS, e->weights ? *e->weights : wu}};
  if (dbias && !ownBias) args.emplace(DNNL_ARG_DIFF_BIAS, Mem(memory::desc({g.oc}, dt::f32, tag::x), dbias));
  e->prim.execute(s, args);
  if (e->weights) e->fromPrim.execute(s, *e->weights, wu);
  s.wait();
  return true;
}

}  // namespace

bool DnnlConvForward(const Conv& g, const float* x, const float* w, const float* bias, float* y, bool relu) { return Forward(g, x, w, bias, y, relu); }
bool DnnlConvBackwardData(const Conv& g, const float* dy, const float* w, float* dx) { return BackwardData(g, dy, w, dx); }
bool DnnlConvBackwardFilter(const Conv& g, const float* x, const float* dy, float* dw, float* dbias) { return BackwardFilter(g, x, dy, dw, dbias); }
bool DnnlConvForwardBf16(const Conv& g, const Bf16* x, const float* w, const float* bias, float* y, bool relu) { return Forward(g, x, w, bias, y, relu); }
bool DnnlConvBackwardDataBf16(const Conv& g, const Bf16* dy, const float* w, float* dx) { return BackwardData(g, dy, w, dx); }
bool DnnlConvBackwardFilterBf16(const Conv& g, const Bf16* x, const Bf16* dy, float* dw, float* dbias) { return BackwardFilter(g, x, dy, dw, dbias); }

bool DnnlHasBf16() {
  // ISA values are bit sets: avx512_core_bf16's bits all present (AMX CPUs included).
  const unsigned bits = unsigned(dnnl::get_effective_cpu_isa()), bf16 = unsigned(dnnl::cpu_isa::avx512_core_bf16);
  return g_enabled && (bits & bf16) == bf16;
}

bool DnnlSgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
               float* C, int64_t ldc) {
  return g_enabled && dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc) == dnnl_success;
}

void DnnlSetThreads(int n) { omp_set_num_threads(n); }
void DnnlEnable(bool on) { g_enabled = on; }
bool DnnlEnabled() { return g_enabled; }

std::string DnnlInfo() {
  const dnnl_version_t* v = dnnl_version();
  const char* isa = "";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    default: isa = "other"; break;
  }
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" + isa + ")";
}

}  // namespace cnnwb

#else

namespace cnnwb {
bool DnnlConvForward(const Conv&, const float*, const float*, const float*, float*, bool) { return false; }
bool DnnlConvBackwardData(const Conv&, const float*, const float*, float*) { return false; }
bool DnnlConvBackwardFilter(const Conv&, const float*, const float*, float*, float*) { return false; }
bool DnnlConvForwardBf16(const Conv&, const Bf16*, const float*, const float*, float*, bool) { return false; }
bool DnnlConvBackwardDataBf16(const Conv&, const Bf16*, const float*, float*) { return false; }
bool DnnlConvBackwardFilterBf16(const Conv&, const Bf16*, const Bf16*, float*, float*) { return false; }
bool DnnlHasBf16() { return false; }
bool DnnlSgemm(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float, float*, int64_t) { return false; }
void DnnlSetThreads(int) {}
void DnnlEnable(bool) {}
bool DnnlEnabled() { return false; }
std::string DnnlInfo() { return ""; }
}  // namespace cnnwb

#endif
