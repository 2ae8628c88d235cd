// The fused training step: a whole Sequential CNN's forward pass, categorical cross-entropy on its softmax,
// backward pass and optimizer update in one native call per batch (convolutions by oneDNN, the rest in
// OpenMP loops). It replaces ~600 tfjs kernel calls per batch and their bookkeeping. Semantics follow tfjs
// layers (hence Keras): BatchNormalization on batch statistics with moving averages, GroupNormalization per
// image and group, Keras' ReLU (max_value, negative_slope, threshold), inverted Dropout,
// probabilities clipped to [1e-7, 1 - 1e-7] in the loss, tfjs' Adam / SGD / momentum update rules.
#pragma once
#include <cblas.h>

#include <cstdint>
#include <string>
#include <vector>

#include "conv.h"

namespace cnnwb {

using SgemmFn = decltype(&cblas_sgemm);

// Layer codes and their parameter lists, as the JS side encodes them (src-main/core/train/fused.ts).
enum LayerKind {
  kConv = 1, kDense = 2, kBatchNorm = 3, kActivation = 4, kMaxPool = 5, kDropout = 6, kFlatten = 7, kAvgPool = 8,
  kGlobalAvgPool = 9, kGlobalMaxPool = 10, kZeroPad = 11, kSpatialDropout = 12, kLeakyRelu = 13, kGroupNorm = 14,
  kReluLayer = 15
};
// Depthwise and separable convolutions (the block at the end of trainer.cc):
// [16, depthMultiplier, kh, kw, sh, sw, dh, dw, same, useBias, act]; [17, filters, depthMultiplier, kh, …, act].
enum DepthwiseKind { kDepthwise = 16, kSeparable = 17 };
// Merge layers of a graph (the block "Graphs" at the end of trainer.cc), each [kind] with two or more inputs
// (Subtract: exactly two); Concatenate joins along the channel axis.
enum MergeKind { kAdd = 18, kConcat = 19, kMultiply = 20, kAverage = 21, kMaximum = 22, kSubtract = 23 };
enum Act { kLinear = 0, kRelu = 1, kSoftmax = 2, kElu = 3, kSelu = 4, kGelu = 5, kSwish = 6, kSigmoid = 7, kTanh = 8 };
// Keras' dtype policies: mixed_bfloat16 runs the convolutions (those with at least kBf16MinChannels input
// channels: an image's first layer is cheap and would only lose its pixels' precision) on bfloat16 copies of their
// inputs and gradients, accumulating in float32; weights, optimizer slots and every other layer stay float32.
enum Precision { kFloat32 = 0, kMixedBfloat16 = 1 };
constexpr int64_t kBf16MinChannels = 4;
enum Optimizer { kAdam = 1, kSgd = 2, kRmsprop = 3, kAdagrad = 4, kAdamax = 5 };

struct Param {
  std::vector<float> w, grad, m, v;  // value, gradient, optimizer slots
  bool trainable = true;
};

struct Layer {
  int kind = 0;
  std::vector<double> cfg;
  int64_t inH = 0, inW = 0, inC = 0, outH = 0, outW = 0, outC = 0;  // per image; Dense/Flatten: outH = outW = 1
  int act = kLinear;
  Conv conv{};  // kConv (n is set per batch)
  int64_t ph = 0, pw = 0, psh = 0, psw = 0, ppt = 0, ppl = 0;  // kMaxPool, kAvgPool; kZeroPad: ppt, ppl
  float alpha = 0;                                             // kLeakyRelu
  float maxValue = -1, slope = 0, threshold = 0;               // kReluLayer (maxValue < 0: unbounded)
  int64_t groups = 1;                                          // kGroupNorm
  std::vector<Param> params;
  std::vector<float> out;        // this layer's output for the batch
  std::vector<float> pre;        // Conv / Dense with a smooth activation: the output before it
  std::vector<int32_t> argmax;   // kMaxPool: input offset of each output's maximum
  std::vector<float> mask;       // kDropout: 0 or 1/(1-rate)
  std::vector<float> mean, invStd;  // kBatchNorm: batch statistics per channel; kGroupNorm: per image and group
  Conv point{};                     // kSeparable: the pointwise (1×1) convolution after the depthwise one
  std::vector<float> mid, dmid;     // kSeparable: the depthwise output and its gradient
  std::vector<Bf16> inBf16;         // kConv under mixed_bfloat16: its input rounded to bfloat16 (empty: float32)
  // Graphs only (empty for a straight list): the layers this one reads (-1: the model's input), per input whether
  // it is the first gradient the backward pass sends to that layer (written, not added), and how many read it.
  std::vector<int64_t> inputs;
  std::vector<bool> firstGrad;
  int64_t consumers = 0;
  int64_t inSize() const { return inH * inW * inC; }
  int64_t outSize() const { return outH * outW * outC; }
};

struct StepResult {
  double loss = 0;
  double accuracy = 0;
  bool finite = true;
};

class Trainer {
 public:
  // layers: one code list per layer (kind first). input: [h, w, c]. optimizer: [kind, a, b, eps] with
  // adam / adamax: a = β1, b = β2; sgd: a = momentum, b = nesterov (0/1); rmsprop: a = ρ, b = momentum;
  // adagrad: a = initial accumulator. Every code is checked (integers, signs, sizes without overflow) before
  // it is used, and the buffers' total against the machine's memory before each allocation; throws
  // std::runtime_error naming the layer.
  // graph: empty for a straight list (each layer reads the previous one), else per layer the indices of the layers
  // it reads (-1: the model's input), each earlier than the layer; the last layer is the output.
  Trainer(const std::vector<std::vector<double>>& layers, int64_t h, int64_t w, int64_t c, int64_t maxBatch,
          const std::vector<double>& optimizer, uint64_t seed, int threads, SgemmFn sgemm,
          const std::vector<std::vector<double>>& graph = {}, Precision precision = kFloat32);

  // Whether layer i computes in bfloat16: a convolution under mixed_bfloat16 (never under float32, nor on a CPU
  // without bfloat16 instructions).
  bool ComputesInBf16(size_t layer) const { return !layers_.at(layer).inBf16.empty(); }

  // Output shape per layer, [h, w, c] (Dense / Flatten: [1, 1, units]), for the caller to check against tfjs.
  std::vector<int64_t> OutputShape(size_t layer) const;
  int64_t InputSize() const { return layers_.front().inSize(); }
  int64_t MaxBatch() const { return maxBatch_; }
  size_t NumLayers() const { return layers_.size(); }
  size_t NumParams(size_t layer) const { return layers_.at(layer).params.size(); }
  std::vector<float>& ParamValue(size_t layer, size_t param) { return layers_.at(layer).params.at(param).w; }
  // slot 0: the value; 1, 2: the optimizer's two slots (empty for a non-trainable param), for checkpoints.
  std::vector<float>& ParamSlot(size_t layer, size_t param, int slot) {
    Param& p = layers_.at(layer).params.at(param);
    return slot == 1 ? p.m : slot == 2 ? p.v : p.w;
  }
  // The counters a resumed run needs to continue identically: optimizer steps (Adam's bias correction) and
  // Dropout calls (the masks' stream).
  int64_t Steps() const { return step_; }
  int64_t DropoutCalls() const { return dropoutCalls_; }
  void SetCounters(int64_t steps, int64_t dropoutCalls) { step_ = steps, dropoutCalls_ = dropoutCalls; }

  // One training step on n images (NHWC, already scaled) with integer labels in [0, classes).
  StepResult Step(const float* x, const int32_t* labels, int64_t n, double lr);

  // Inference on n images (NHWC, already scaled) into y (n × the last layer's size), as tfjs' predict() (under
  // mixed_bfloat16 the convolutions that train in bfloat16 infer in it too, as Keras predicts under the policy):
  // BatchNorm on its moving statistics, Dropout / SpatialDropout2D as identity. Works through the images in
  // chunks of kInferChunk in its own two buffers, so a trainer made with maxBatch 1 infers any n; a BatchNorm
  // after a convolution is folded into its weights (and a following ReLU into the convolution's post-op).
  // Throws std::runtime_error naming a layer it does not cover (the caller then uses tfjs).
  void Infer(const float* x, int64_t n, float* y);
  // The first layer Infer does not cover, or -1 (checked at creation so the caller can fall back at once).
  int64_t FirstLayerInferCannotRun() const;
  static constexpr int64_t kInferChunk = 256;

  // Where the time went since the last reset, in seconds, for the bench's split: per layer category
  // (kProfileConv … kProfileOther) the training forward pass, then the backward pass, then Infer; then the loss,
  // the optimizer update, the steps taken and the images inferred. Wall-clock per layer (steady_clock).
  enum { kProfileConv, kProfileBatchNorm, kProfilePool, kProfileDense, kProfileOther, kProfileCategories };
  std::vector<double> Profile(bool reset);

 private:
  void Forward(const float* x, int64_t n);
  void Backward(const float* x, const int32_t* labels, int64_t n, StepResult* r);
  bool Update(double lr);
  // Layer i is a BatchNorm whose output only a ReLU Activation reads: the ReLU is applied in BatchNorm's passes.
  bool ReluFollows(size_t i) const;
  // A straight list's BatchNorm → ReLU → 2×2 / stride-2 max pooling (the lesson's blocks): one forward pass writes
  // only the pooled output and its argmax, not the ReLU's full-size output, which nothing reads afterwards (the
  // backward pass goes through the argmax and recomputes the ReLU's mask from BatchNorm's input).
  bool PoolFused(size_t i) const;
  // BatchNorm in training as y = x·a + b per channel (forward pass, and the fused ReLU's mask backward).
  static void AffineOf(const Layer& L, const float* gamma, const float* beta, float* a, float* b);
  // Depthwise / separable convolutions: set-up (shapes, weights in tfjs' order), forward (mid: the separable
  // layer's depthwise output, pre: the output before a smooth activation, or null to apply it in place), backward
  // (g: the gradient of the output, after any ReLU mask; dx null when not wanted).
  void SetUpDepthwise(Layer& L, size_t i, int64_t maxBatch, float slotFill);
  void DepthwiseForward(const Layer& L, const float* in, int64_t n, float* mid, float* pre, float* out);
  void DepthwiseBackward(Layer& L, const float* in, float* g, int64_t n, float* dx);
  // BatchNorm's forward pass on batch statistics (the block at the end of trainer.cc); `relu`: a ReLU Activation
  // follows (ReluFollows) and is applied in the same pass; `pool`: the max pooling layer of a PoolFused block (out is
  // then its output), else null.
  void ForwardBatchNorm(Layer& L, const float* in, int64_t n, float* out, bool relu, Layer* pool = nullptr);
  void Gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, float beta);
  // Graphs (the block at the end of trainer.cc): reads and checks layer i's inputs, sets its input shape (H, W, C)
  // and a merge layer's output; the output of layer j (or x for -1); whether layer i's output feeds only layer
  // i + 1 (always true for a straight list), so the two may be fused; the merge layers' passes (their gradients
  // go straight to dOut_, added when not the first); the per-layer gradients' setup.
  void GraphInputs(Layer& L, size_t i, const std::vector<double>& ids, int64_t h, int64_t w, int64_t c, int64_t* H, int64_t* W, int64_t* C);
  const float* Src(int64_t j, const float* x) const { return j < 0 ? x : layers_[size_t(j)].out.data(); }
  bool OnlyFeedsNext(size_t i) const;
  void MergeForward(const Layer& L, const std::vector<const float*>& ins, int64_t n, float* out) const;
  void MergeBackward(const Layer& L, const float* x, const float* g, int64_t n);
  uint64_t GraphBackwardSetUp();

  bool graph_ = false;
  std::vector<std::vector<float>> dOut_;  // graphs: ∂loss/∂ each layer's output (summed over its readers)
  std::vector<std::vector<float>> inferPool_;  // graphs: Infer's activations, a buffer per live layer output

  std::vector<Layer> layers_;
  double profile_[3 * kProfileCategories + 4] = {};  // see Profile()
  std::vector<float> inferMid_;                      // Infer: a separable layer's depthwise output
  std::vector<float> inferA_, inferB_;               // Infer's ping-pong activations, kInferChunk images each
  std::vector<std::vector<float>> foldW_, foldB_;    // Infer: per layer, a convolution's weights with BatchNorm folded in
  std::vector<float> gradA_, gradB_;
  std::vector<Bf16> gradBf16_;  // mixed_bfloat16: a convolution's output gradient rounded to bfloat16
  std::vector<Bf16> inferBf16_;  // mixed_bfloat16, Infer: a convolution's input chunk rounded to bfloat16
  std::vector<double> optimizer_;
  int64_t step_ = 0;
  int64_t dropoutCalls_ = 0;
  uint64_t seed_;
  int threads_;
  SgemmFn sgemm_;
  int64_t maxBatch_;
};

}  // namespace cnnwb
