// Convolution geometry and the oneDNN convolutions shared by the tfjs kernels (cnnwb.cc) and the fused
// training step (trainer.cc). All tensors are NHWC float32; filters are [kH, kW, C, outC] as tfjs stores them.
#pragma once
#include <cstdint>
#include <string>

namespace cnnwb {

// Convolution geometry (NHWC input, [kH, kW, C, outC] filter), as tfjs' Conv2DInfo computes it.
struct Conv {
  int64_t n, h, w, c, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pl;
  int64_t K() const { return kh * kw * c; }
  int64_t pixels() const { return oh * ow; }
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w; }
  // Bottom/right padding implied by the output size (negative when 'valid' drops trailing rows/columns).
  int64_t pb() const { return (oh - 1) * sh + (kh - 1) * dh + 1 - h - pt; }
  int64_t pr() const { return (ow - 1) * sw + (kw - 1) * dw + 1 - w - pl; }
};

// Convolutions by oneDNN when it is compiled in and takes the geometry, else im2col + OpenBLAS (cnnwb.cc).
void ConvForward(const Conv& g, const float* x, const float* w, const float* bias, float* y, bool relu);
void ConvBackwardData(const Conv& g, const float* dy, const float* w, float* dx);
void ConvBackwardFilter(const Conv& g, const float* x, const float* dy, float* dw, float* dbias);

// The oneDNN versions return false (and do nothing) when oneDNN was not compiled in or does not take this
// geometry; the caller then runs its im2col + OpenBLAS version. `relu` fuses max(0, ·) after the bias.
bool DnnlConvForward(const Conv& g, const float* x, const float* w, const float* bias, float* y, bool relu);
// dx = ∂L/∂x given dy (overwrites dx).
bool DnnlConvBackwardData(const Conv& g, const float* dy, const float* w, float* dx);
// dw = ∂L/∂w (overwrites dw); dbias = Σ dy over images and pixels when not null.
bool DnnlConvBackwardFilter(const Conv& g, const float* x, const float* dy, float* dw, float* dbias);
// The mixed_bfloat16 policy (Keras' name): a convolution reads bfloat16 (x, dy, and w, which it converts
// itself) and writes float32 (y, dx, dw, dbias), accumulating in float32. Same contract as above; false also
// where the CPU has no bfloat16 instructions (DnnlHasBf16), where oneDNN would emulate them slower than float32.
using Bf16 = uint16_t;
bool DnnlConvForwardBf16(const Conv& g, const Bf16* x, const float* w, const float* bias, float* y, bool relu);
bool DnnlConvBackwardDataBf16(const Conv& g, const Bf16* dy, const float* w, float* dx);
bool DnnlConvBackwardFilterBf16(const Conv& g, const Bf16* x, const Bf16* dy, float* dw, float* dbias);
bool DnnlHasBf16();
// C = op(A)·op(B) + beta·C, row-major, by oneDNN's JIT SGEMM on oneDNN's threads; false when oneDNN is not compiled
// in or is switched off (DnnlEnable). For the Dense layers' shapes in the lesson (128×128×3136 and its two
// backward products) it ran at 310–435 GFLOP/s on two threads where OpenBLAS' (split over the rows of C, one
// thread each) ran at 170–200.
bool DnnlSgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
               float* C, int64_t ldc);

// Lets tests run the im2col + OpenBLAS path on a machine with oneDNN (false), and back (true).
void DnnlEnable(bool on);
bool DnnlEnabled();
// Threads oneDNN's OpenMP runtime may use.
void DnnlSetThreads(int n);
// "oneDNN 2.6.3 (avx512_core)", or "" when not compiled in.
std::string DnnlInfo();

}  // namespace cnnwb
