// Forward loops shared by the training step's forward pass (Trainer::Forward) and the inference pass
// (Trainer::Infer), so the two cannot drift apart: pooling, zero padding, Keras' ReLU, GroupNormalization, the
// per-channel affine map of BatchNorm, Dense's bias + ReLU and the softmax. Included by trainer.cc only (after
// its OpenMP set-up); every loop runs on T OpenMP threads and writes disjoint outputs. NHWC throughout.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "trainer.h"

namespace cnnwb {
namespace passes {

// Calls fn(at) for each pixel of output (y, xo)'s pooling window that lies inside the image, `at` being the offset
// of the pixel's first channel in the image: padding never takes part (max, average and their gradients alike).
template <typename Fn>
void ForWindow(const Layer& L, int64_t y, int64_t xo, Fn fn) {
  for (int64_t a = 0; a < L.ph; a++) {
    const int64_t ih = y * L.psh - L.ppt + a;
    if (ih < 0 || ih >= L.inH) continue;
    for (int64_t b = 0; b < L.pw; b++) {
      const int64_t iw = xo * L.psw - L.ppl + b;
      if (iw >= 0 && iw < L.inW) fn((ih * L.inW + iw) * L.inC);
    }
  }
}

// The common 2×2 / stride-2 window with every tap inside the image ('valid', or 'same' on an even size), which
// MaxPool2x2 runs without per-tap bounds checks. ('same' on an odd size pads after: MaxPool's generic loop.)
inline bool MaxPoolIs2x2(const Layer& L) {
  return L.ph == 2 && L.pw == 2 && L.psh == 2 && L.psw == 2 && L.ppt == 0 && L.ppl == 0 && 2 * L.outH <= L.inH && 2 * L.outW <= L.inW;
}

// 2×2 / stride-2 max pooling (MaxPoolIs2x2) of value(x, channel): the input itself (MaxPool), or a map applied on the
// way (AffineReluMaxPool), two input rows of C channels per output row. arg as in MaxPool.
template <typename Value>
void MaxPool2x2(const Layer& L, const float* in, int64_t n, float* out, int32_t* arg, Value value, int T) {
  const int64_t C = L.inC, OH = L.outH, OW = L.outW, W = L.inW, inSize = L.inSize(), outSize = L.outSize();
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t row = 0; row < n * OH; row++) {
    const int64_t img = row / OH, yo = row % OH;
    const int64_t r0 = (2 * yo) * W * C, r1 = r0 + W * C;
    const float* xi = in + img * inSize;
    float* o = out + img * outSize + yo * OW * C;
    int32_t* ai = arg ? arg + img * outSize + yo * OW * C : nullptr;
    for (int64_t xo = 0; xo < OW; xo++) {
      const int64_t t0 = r0 + 2 * xo * C, t1 = t0 + C, t2 = r1 + 2 * xo * C, t3 = t2 + C;
      float* ov = o + xo * C;
      if (!ai) {
        for (int64_t j = 0; j < C; j++)
          ov[j] = std::max(std::max(value(xi[t0 + j], j), value(xi[t1 + j], j)), std::max(value(xi[t2 + j], j), value(xi[t3 + j], j)));
        continue;
      }
      int32_t* av = ai + xo * C;
      for (int64_t j = 0; j < C; j++) {
        const float y0 = value(xi[t0 + j], j), y1 = value(xi[t1 + j], j), y2 = value(xi[t2 + j], j), y3 = value(xi[t3 + j], j);
        float best = y0;
        int64_t at = t0 + j;
        if (y1 > best) best = y1, at = t1 + j;
        if (y2 > best) best = y2, at = t2 + j;
        if (y3 > best) best = y3, at = t3 + j;
        ov[j] = best, av[j] = int32_t(at);
      }
    }
  }
}

// BatchNorm's y = max(x·a + b, 0) and then the 2×2 / stride-2 max pooling P (MaxPoolIs2x2) in one pass over x,
// writing only the pooled output and argmax (Trainer::PoolFused): the same maxima and argmax (first tap on ties) as
// MaxPool on the ReLU's output.
inline void AffineReluMaxPool(const Layer& P, const float* in, int64_t n, const float* a, const float* b, float* out, int32_t* arg, int T) {
  MaxPool2x2(P, in, n, out, arg, [a, b](float x, int64_t j) { return std::max(x * a[j] + b[j], 0.f); }, T);
}

// Max pooling of n images; arg (training: the backward pass scatters through it) receives each output's input
// offset within its image, or is null (inference). The first maximum in window order wins, as in tfjs.
inline void MaxPool(const Layer& L, const float* in, int64_t n, float* out, int32_t* arg, int T) {
  const int64_t C = L.inC, OH = L.outH, OW = L.outW, inSize = L.inSize(), outSize = L.outSize();
  if (MaxPoolIs2x2(L)) return MaxPool2x2(L, in, n, out, arg, [](float x, int64_t) { return x; }, T);
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    const float* xi = in + img * inSize;
    for (int64_t y = 0; y < OH; y++) {
      for (int64_t xo = 0; xo < OW; xo++) {
        float* o = out + img * outSize + (y * OW + xo) * C;
        int32_t* ai = arg ? arg + img * outSize + (y * OW + xo) * C : nullptr;
        for (int64_t j = 0; j < C; j++) o[j] = -INFINITY;
        if (ai) for (int64_t j = 0; j < C; j++) ai[j] = -1;
        ForWindow(L, y, xo, [&](int64_t at) {
          for (int64_t j = 0; j < C; j++) {
            if (xi[at + j] > o[j]) {
              o[j] = xi[at + j];
              if (ai) ai[j] = int32_t(at + j);
            }
          }
        });
      }
    }
  }
}

// Average pooling (tfjs / TF: the mean over the window's pixels inside the image; padding is not counted).
inline void AvgPool(const Layer& L, const float* in, int64_t n, float* out, int T) {
  const int64_t C = L.inC, OH = L.outH, OW = L.outW, inSize = L.inSize(), outSize = L.outSize();
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    const float* xi = in + img * inSize;
    for (int64_t y = 0; y < OH; y++) {
      for (int64_t xo = 0; xo < OW; xo++) {
        float* o = out + img * outSize + (y * OW + xo) * C;
        for (int64_t j = 0; j < C; j++) o[j] = 0;
        int64_t count = 0;
        ForWindow(L, y, xo, [&](int64_t at) {
          for (int64_t j = 0; j < C; j++) o[j] += xi[at + j];
          count++;
        });
        const float inv = count ? 1.f / float(count) : 0.f;
        for (int64_t j = 0; j < C; j++) o[j] *= inv;
      }
    }
  }
}

// Global average / max pooling over each image's pixels; arg (max, training) as in MaxPool, or null.
inline void GlobalPool(const Layer& L, const float* in, int64_t n, float* out, int32_t* arg, int T) {
  const int64_t C = L.inC, P = L.inH * L.inW, inSize = L.inSize();
  const bool avg = L.kind == kGlobalAvgPool;
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    const float* xi = in + img * inSize;
    float* o = out + img * C;
    for (int64_t j = 0; j < C; j++) o[j] = avg ? 0.f : -INFINITY;
    for (int64_t q = 0; q < P; q++) {
      const float* px = xi + q * C;
      for (int64_t j = 0; j < C; j++) {
        if (avg) o[j] += px[j];
        else if (px[j] > o[j]) {
          o[j] = px[j];
          if (arg) arg[img * C + j] = int32_t(q * C + j);
        }
      }
    }
    if (avg) for (int64_t j = 0; j < C; j++) o[j] /= float(P);
  }
}

inline void ZeroPad(const Layer& L, const float* in, int64_t n, float* out, int T) {
  const int64_t H = L.inH, W = L.inW, C = L.inC, OW = L.outW, inSize = L.inSize(), outSize = L.outSize();
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    float* o = out + img * outSize;
    std::memset(o, 0, sizeof(float) * size_t(outSize));
    for (int64_t y = 0; y < H; y++)
      std::memcpy(o + ((y + L.ppt) * OW + L.ppl) * C, in + img * inSize + y * W * C, sizeof(float) * size_t(W * C));
  }
}

// Keras' ReLU: max_value at and above it, x above the threshold, negative_slope · (x − threshold) below.
inline void ReluLayer(const Layer& L, const float* in, int64_t total, float* out, int T) {
  const float mx = L.maxValue, slope = L.slope, th = L.threshold;
  const bool capped = mx >= 0;
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t k = 0; k < total; k++) {
    const float v = in[k];
    out[k] = capped && v >= mx ? mx : v > th ? v : slope * (v - th);
  }
}

// GroupNormalization, the same in training and inference (statistics per image, no moving averages): per image
// and group the mean and variance over the pixels and the group's C/G channels (in double), then
// y = (x − mean) / √(var + ε) · γ + β per channel. mean / inv receive n × G values (the backward pass reads them).
inline void GroupNorm(const Layer& L, const float* in, int64_t n, float* out, float* mean, float* inv, int T) {
  const int64_t C = L.inC, P = L.inH * L.inW, G = L.groups, Cg = C / G, inSize = L.inSize();
  const double eps = L.cfg[2], count = double(P * Cg);
  const bool center = L.cfg[3] != 0, scale = L.cfg[4] != 0;
  const float* gamma = scale ? L.params[0].w.data() : nullptr;
  const float* beta = center ? L.params[scale ? 1 : 0].w.data() : nullptr;
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t img = 0; img < n; img++) {
    const float* xi = in + img * inSize;
    float* o = out + img * inSize;
    for (int64_t grp = 0; grp < G; grp++) {
      double s1 = 0, s2 = 0;
      for (int64_t q = 0; q < P; q++) {
        const float* px = xi + q * C + grp * Cg;
        for (int64_t j = 0; j < Cg; j++) s1 += px[j], s2 += double(px[j]) * px[j];
      }
      const double m = s1 / count, var = std::max(0.0, s2 / count - m * m);
      mean[img * G + grp] = float(m);
      inv[img * G + grp] = float(1.0 / std::sqrt(var + eps));
    }
    for (int64_t q = 0; q < P; q++) {
      for (int64_t grp = 0; grp < G; grp++) {
        const float mu = mean[img * G + grp], a = inv[img * G + grp];
        for (int64_t j = grp * Cg; j < (grp + 1) * Cg; j++) {
          const float v = (xi[q * C + j] - mu) * a;
          o[q * C + j] = (gamma ? v * gamma[j] : v) + (beta ? beta[j] : 0.f);
        }
      }
    }
  }
}

// out = in · a + b per channel over `rows` rows of C channels (BatchNorm once its statistics are known: the
// batch's in training, the moving ones in inference), with max(0, ·) after when a ReLU follows.
inline void ChannelAffine(const float* in, int64_t rows, int64_t C, const float* a, const float* b, bool relu, float* out, int T) {
#pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = in + r * C;
    float* o = out + r * C;
    if (relu) {
      for (int64_t j = 0; j < C; j++) o[j] = std::max(xr[j] * a[j] + b[j], 0.f);
    } else {
      for (int64_t j = 0; j < C; j++) o[j] = xr[j] * a[j] + b[j];
    }
  }
}

// Dense after its GEMM: + bias (when not null), then max(0, ·) when relu, on n rows of `units`.
inline void BiasRelu(float* z, int64_t n, int64_t units, const float* b, bool relu, int T) {
#pragma omp parallel for num_threads(T) schedule(static) if (n * units > 16384)
  for (int64_t r = 0; r < n; r++) {
    float* o = z + r * units;
    if (b) for (int64_t j = 0; j < units; j++) o[j] += b[j];
    if (relu) for (int64_t j = 0; j < units; j++) o[j] = o[j] > 0 ? o[j] : 0;
  }
}

// Softmax over each of n rows of K values, in place (max subtracted first; the sum in double).
inline void Softmax(float* o, int64_t n, int64_t K, int T) {
#pragma omp parallel for num_threads(T) schedule(static) if (n * K > 16384)
  for (int64_t r = 0; r < n; r++) {
    float* orow = o + r * K;
    float mx = orow[0];
    for (int64_t j = 1; j < K; j++) mx = std::max(mx, orow[j]);
    double s = 0;
    for (int64_t j = 0; j < K; j++) s += (orow[j] = std::exp(orow[j] - mx));
    for (int64_t j = 0; j < K; j++) orow[j] = float(orow[j] / s);
  }
}

}  // namespace passes
}  // namespace cnnwb
