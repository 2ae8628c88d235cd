// The native augmentation pass (augment.h). The geometric transform reads pixels exactly as TensorFlow's
// ImageProjectiveTransformV3 (and tfjs' cpu Transform kernel, its port) does — the same fill-mode coordinate maps,
// the same bilinear weights — so the images equal the tfjs layers' given the same drawn parameters. Coordinates
// are doubles, as in tfjs; nothing from JS reaches a loop unchecked (AugmentParse / AugmentCheckParams run first).
#include "augment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace cnnwb {

namespace {

std::string Op(size_t i) { return "op " + std::to_string(i) + ": "; }

std::string Num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

// Drawn matrices beyond this make no sense for an image and could lose every digit of a coordinate.
constexpr double kMaxMatrix = 1e6;
// Float32 parameters checked against double ranges: allow float32's rounding.
constexpr double kSlack = 1e-6;

int ParamsOf(const AugmentOp& op) {
  switch (op.kind) {
    case kAugFlip: return 2;
    case kAugTransform: return 8;
    case kAugContrast:
    case kAugBrightness: return 1;
    default: return 0;
  }
}

// TensorFlow's map_coordinate for each fill mode (tfjs: mapCoordReflect / Wrap / Nearest / Constant).
double MapCoord(double in, int64_t len, int fill) {
  const double n = double(len);
  if (fill == 0) {  // reflect: (d c b a | a b c d | d c b a)
    if (in < 0) {
      if (len <= 1) {
        in = 0;
      } else {
        const double sz2 = 2 * n;
        if (in < sz2) in = sz2 * std::trunc(-in / sz2) + in;
        in = in < -n ? in + sz2 : -in - 1;
      }
    } else if (in > n - 1) {
      if (len <= 1) {
        in = 0;
      } else {
        const double sz2 = 2 * n;
        in -= sz2 * std::trunc(in / sz2);
        if (in >= n) in = sz2 - in - 1;
      }
    }
    return std::min(std::max(in, 0.0), n - 1);
  }
  if (fill == 1) {  // wrap: (a b c d | a b c d | a b c d), as TensorFlow writes it
    if (in < 0) {
      if (len <= 1) in = 0;
      else in += n * (std::trunc(-in / (n - 1)) + 1);
    } else if (in > n - 1) {
      if (len <= 1) in = 0;
      else in -= n * std::trunc(in / (n - 1));
    }
    return std::min(std::max(in, 0.0), n - 1);
  }
  if (fill == 3) return std::min(std::max(in, 0.0), n - 1);  // nearest
  return in;                                                 // constant: outside reads the fill value
}

struct Image {
  const float* px;
  int64_t h, w, c;
  double fill;
  // The pixel (y, x) channel k, or the fill value outside the image (y, x are whole numbers as doubles).
  double Read(double y, double x, int64_t k) const {
    if (!(y >= 0 && y < double(h) && x >= 0 && x < double(w))) return fill;
    return px[(int64_t(y) * w + int64_t(x)) * c + k];
  }
};

void Transform(const AugmentOp& op, const float* m, const float* src, float* dst, int64_t h, int64_t w, int64_t c) {
  const Image img{src, h, w, c, op.c};
  const int fill = op.mode;
  const bool nearest = op.b == 1;
  for (int64_t oy = 0; oy < h; oy++) {
    for (int64_t ox = 0; ox < w; ox++) {
      float* o = dst + (oy * w + ox) * c;
      const double proj = double(m[6]) * ox + double(m[7]) * oy + 1;
      if (proj == 0) {
        for (int64_t k = 0; k < c; k++) o[k] = float(op.c);
        continue;
      }
      const double x = MapCoord((double(m[0]) * ox + double(m[1]) * oy + double(m[2])) / proj, w, fill);
      const double y = MapCoord((double(m[3]) * ox + double(m[4]) * oy + double(m[5])) / proj, h, fill);
      if (nearest) {
        // JS Math.round: halves go up.
        const double ry = std::floor(y + 0.5), rx = std::floor(x + 0.5);
        for (int64_t k = 0; k < c; k++) o[k] = float(img.Read(ry, rx, k));
        continue;
      }
      const double y0 = std::floor(y), x0 = std::floor(x), y1 = y0 + 1, x1 = x0 + 1;
      for (int64_t k = 0; k < c; k++) {
        const double top = (x1 - x) * img.Read(y0, x0, k) + (x - x0) * img.Read(y0, x1, k);
        const double bottom = (x1 - x) * img.Read(y1, x0, k) + (x - x0) * img.Read(y1, x1, k);
        o[k] = float((y1 - y) * top + (y - y0) * bottom);
      }
    }
  }
}

void Flip(const float* flags, float* img, int64_t h, int64_t w, int64_t c) {
  if (flags[0] == 1) {
    for (int64_t y = 0; y < h; y++)
      for (int64_t l = 0, r = w - 1; l < r; l++, r--)
        for (int64_t k = 0; k < c; k++) std::swap(img[(y * w + l) * c + k], img[(y * w + r) * c + k]);
  }
  if (flags[1] == 1) {
    for (int64_t t = 0, b = h - 1; t < b; t++, b--)
      std::swap_ranges(img + t * w * c, img + (t + 1) * w * c, img + b * w * c);
  }
}

// (x − mean) · f + mean per channel (mean over the image's pixels), clipped to [lo, hi] (tf.image.adjust_contrast).
void Contrast(const AugmentOp& op, double f, float* img, int64_t h, int64_t w, int64_t c, std::vector<double>& mean) {
  const int64_t pixels = h * w;
  mean.assign(size_t(c), 0.0);
  for (int64_t p = 0; p < pixels; p++)
    for (int64_t k = 0; k < c; k++) mean[size_t(k)] += img[p * c + k];
  for (double& v : mean) v /= double(pixels);
  for (int64_t p = 0; p < pixels; p++)
    for (int64_t k = 0; k < c; k++) {
      const double v = (img[p * c + k] - mean[size_t(k)]) * f + mean[size_t(k)];
      img[p * c + k] = float(std::min(std::max(v, op.b), op.c));
    }
}

// In float32, one rounding per operation, as tfjs' mul and add: the Rescaling layer's values exactly (no fused
// multiply-add, which -march=native would otherwise contract this into).
__attribute__((optimize("fp-contract=off"))) void Rescale(const AugmentOp& op, float* img, int64_t size) {
  const float scale = float(op.a), offset = float(op.b);
  for (int64_t i = 0; i < size; i++) {
    const float scaled = img[i] * scale;
    img[i] = scaled + offset;
  }
}

void Brightness(const AugmentOp& op, double d, float* img, int64_t size) {
  for (int64_t i = 0; i < size; i++) img[i] = float(std::min(std::max(double(img[i]) + d, op.b), op.c));
}

}  // namespace

std::string AugmentParse(const std::vector<std::vector<double>>& codes, std::vector<AugmentOp>* ops) {
  ops->clear();
  for (size_t i = 0; i < codes.size(); i++) {
    const std::vector<double>& k = codes[i];
    if (k.empty()) return Op(i) + "empty code list";
    AugmentOp op;
    const double kind = k[0];
    const size_t want = kind == kAugRescale ? 3 : kind == kAugFlip ? 2 : (kind >= kAugTransform && kind <= kAugBrightness) ? 4 : 0;
    if (want == 0) return Op(i) + "unknown kind " + Num(kind) + " (1 Rescaling, 2 flip, 3 transform, 4 contrast, 5 brightness)";
    if (k.size() != want) return Op(i) + "kind " + Num(kind) + " takes " + std::to_string(want) + " numbers, received " + std::to_string(k.size());
    for (size_t j = 1; j < k.size(); j++)
      if (!std::isfinite(k[j])) return Op(i) + "setting " + std::to_string(j) + " is not finite";
    op.kind = int(kind);
    if (op.kind == kAugRescale) {
      op.a = k[1];
      op.b = k[2];
    } else if (op.kind == kAugFlip) {
      if (k[1] != 1 && k[1] != 2 && k[1] != 3) return Op(i) + "flip mode " + Num(k[1]) + " is not 1 (horizontal), 2 (vertical) or 3 (both)";
      op.mode = int(k[1]);
    } else if (op.kind == kAugTransform) {
      if (k[1] != 0 && k[1] != 1 && k[1] != 2 && k[1] != 3) return Op(i) + "fill mode " + Num(k[1]) + " is not 0 (reflect), 1 (wrap), 2 (constant) or 3 (nearest)";
      if (k[2] != 0 && k[2] != 1) return Op(i) + "interpolation " + Num(k[2]) + " is not 0 (bilinear) or 1 (nearest)";
      op.mode = int(k[1]);
      op.b = k[2];
      op.c = k[3];
    } else {
      const char* name = op.kind == kAugContrast ? "contrast" : "brightness";
      if (k[1] < 0 || k[1] > 1) return Op(i) + name + " factor " + Num(k[1]) + " is outside [0, 1]";
      if (!(k[2] < k[3])) return Op(i) + name + " value range [" + Num(k[2]) + ", " + Num(k[3]) + "] is empty";
      op.a = k[1];
      op.b = k[2];
      op.c = k[3];
    }
    ops->push_back(op);
  }
  return "";
}

int64_t AugmentParamsPerImage(const std::vector<AugmentOp>& ops, bool training) {
  if (!training) return 0;
  int64_t per = 0;
  for (const AugmentOp& op : ops) per += ParamsOf(op);
  return per;
}

std::string AugmentCheckParams(const std::vector<AugmentOp>& ops, bool training, const float* params, int64_t n) {
  if (!training) return "";
  const int64_t per = AugmentParamsPerImage(ops, training);
  for (int64_t img = 0; img < n; img++) {
    const float* p = params + img * per;
    for (size_t i = 0; i < ops.size(); i++) {
      const AugmentOp& op = ops[i];
      const std::string at = "params: " + Op(i) + "image " + std::to_string(img) + ": ";
      for (int j = 0; j < ParamsOf(op); j++)
        if (!std::isfinite(p[j])) return at + "parameter " + std::to_string(j) + " is not finite";
      if (op.kind == kAugFlip) {
        for (int j = 0; j < 2; j++) {
          if (p[j] != 0 && p[j] != 1) return at + "flip flag " + Num(p[j]) + " is not 0 or 1";
          if (p[j] == 1 && !(op.mode & (1 << j))) return at + (j == 0 ? "a horizontal" : "a vertical") + " flip this mode does not allow";
        }
      } else if (op.kind == kAugTransform) {
        for (int j = 0; j < 8; j++)
          if (std::fabs(p[j]) > kMaxMatrix) return at + "matrix entry " + std::to_string(j) + " = " + Num(p[j]) + " is beyond ±1e6";
      } else if (op.kind == kAugContrast) {
        if (p[0] < 1 - op.a - kSlack || p[0] > 1 + op.a + kSlack)
          return at + "contrast " + Num(p[0]) + " is outside [" + Num(1 - op.a) + ", " + Num(1 + op.a) + "]";
      } else if (op.kind == kAugBrightness) {
        const double r = op.a * (op.c - op.b);
        if (std::fabs(p[0]) > r + kSlack * std::max(1.0, r)) return at + "brightness " + Num(p[0]) + " is outside ±" + Num(r);
      }
      p += ParamsOf(op);
    }
  }
  return "";
}

void Augment(const std::vector<AugmentOp>& ops, bool training, const float* params, const float* x, float* out, int64_t n,
             int64_t h, int64_t w, int64_t c, int threads) {
  const int64_t size = h * w * c;
  if (x != out) std::memmove(out, x, sizeof(float) * size_t(n * size));
  const int64_t per = AugmentParamsPerImage(ops, training);
  // Images are independent: each thread takes whole images through every op while they are in its cache.
#pragma omp parallel num_threads(threads) if (n * size > 65536)
  {
    std::vector<float> scratch;
    std::vector<double> mean;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      float* img = out + i * size;
      const float* p = training ? params + i * per : nullptr;
      for (const AugmentOp& op : ops) {
        if (op.kind == kAugRescale) {
          Rescale(op, img, size);
          continue;
        }
        if (!training) continue;  // the random layers are the identity at inference
        if (op.kind == kAugFlip) Flip(p, img, h, w, c);
        else if (op.kind == kAugTransform) {
          scratch.assign(img, img + size);
          Transform(op, p, scratch.data(), img, h, w, c);
        } else if (op.kind == kAugContrast) Contrast(op, p[0], img, h, w, c, mean);
        else if (op.kind == kAugBrightness) Brightness(op, p[0], img, size);
        p += ParamsOf(op);
      }
    }
  }
}

}  // namespace cnnwb
