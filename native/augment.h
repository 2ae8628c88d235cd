// The native augmentation pass: Keras' preprocessing layers (Rescaling, RandomFlip, RandomRotation /
// RandomTranslation / RandomZoom as one projective transform, RandomContrast, RandomBrightness) over a batch of
// NHWC float32 images, before the fused training step. The random parameters are drawn in JS, per image, by the
// same tfjs layer objects that would run them through tfjs (core/model/tfjs-layers/augmentation.ts), so both
// paths give the same images for the same seed; here only the pixel work runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cnnwb {

enum AugmentKind { kAugRescale = 1, kAugFlip = 2, kAugTransform = 3, kAugContrast = 4, kAugBrightness = 5 };

// One layer's settings, from its code list:
//   [1, scale, offset]                        Rescaling (also at inference)
//   [2, mode]                                 RandomFlip; mode 1 horizontal, 2 vertical, 3 both; per image [h, v] ∈ {0, 1}
//   [3, fill, interpolation, fillValue]       a projective transform; fill 0 reflect, 1 wrap, 2 constant, 3 nearest;
//                                             interpolation 0 bilinear, 1 nearest; per image tfjs' 8 numbers
//   [4, factor, lo, hi]                       RandomContrast; per image f ∈ [1 − factor, 1 + factor]; clipped to [lo, hi]
//   [5, factor, lo, hi]                       RandomBrightness; per image δ ∈ [−factor, factor]·(hi − lo); clipped
struct AugmentOp {
  int kind = 0;
  double a = 0, b = 0, c = 0;
  int mode = 0;
};

// Reads and checks the code lists; returns "" or why not ("op 2: fill mode 7 is not 0–3").
std::string AugmentParse(const std::vector<std::vector<double>>& codes, std::vector<AugmentOp>* ops);
// Per-image parameters the ops take in training mode (none at inference: the random ops are the identity).
int64_t AugmentParamsPerImage(const std::vector<AugmentOp>& ops, bool training);
// Checks every drawn parameter (finite, within its op's range); returns "" or why not, naming op and image.
std::string AugmentCheckParams(const std::vector<AugmentOp>& ops, bool training, const float* params, int64_t n);
// out = the ops applied in order to x (n images h × w × c); x and out may be the same buffer. Everything checked.
void Augment(const std::vector<AugmentOp>& ops, bool training, const float* params, const float* x, float* out, int64_t n,
             int64_t h, int64_t w, int64_t c, int threads);

}  // namespace cnnwb
