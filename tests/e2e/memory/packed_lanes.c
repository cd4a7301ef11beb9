// Doubles read through integer vectors whose lanes are not the doubles' width (#9), as Eigen's
// blocked matrix product does: both operands of a^T a are packed from one array into two scratch
// buffers, and the micro kernel broadcasts each packed right-hand double with a shuffle of 32-bit
// integer lanes (Eigen's vec2d_swizzle1): the optimized code loads the packets as <4 x i32> and
// bitcasts them to <2 x double> (here the packet is also stored as the integers it was read as,
// which keeps the optimizer from retyping the load). Both packed operands' derivatives must flow
// back to a, in both modes.
#include "both.h"
#include <stdint.h>

#define N 4

typedef int32_t v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));

static const double W[N * N] = {1.25, 0.25, 0.5, 0.25, -0.75, 1.25, 0.25, 0.5,
                                0.25, 2.0, 1.25, 0.25, 0.5, 0.25, -1.0, 1.25};

/* the panels of lhs = a^T and rhs = a, two rows (lhs) or two columns (rhs) side by side, as
   gemm_pack_lhs / gemm_pack_rhs lay them out (N = 4 columns of rhs: one panel): lhs(i,k) =
   a[i*N + k], rhs(k,j) = a[j*N + k] */
__attribute__((noinline)) static void pack_lhs(double *blk, const double *a) {
  for (int i = 0; i < N; i += 2)
    for (int k = 0; k < N; k++) {
      blk[i * N + 2 * k] = a[i * N + k];
      blk[i * N + 2 * k + 1] = a[(i + 1) * N + k];
    }
}
__attribute__((noinline)) static void pack_rhs(double *blk, const double *a) {
  for (int k = 0; k < N; k++)
    for (int j = 0; j < N; j++) blk[4 * k + j] = a[j * N + k];
}

/* s = lhs rhs (column-major) from the panels: a packet of two lhs rows times four broadcast rhs
   values (rhs panel of four columns). Each packet of two rhs values is read as four 32-bit lanes
   and each value broadcast by a shuffle of lanes 0,1,0,1 or 2,3,2,3 (pbroadcast4); the packet is
   also copied, as those integers, into `seen`. */
__attribute__((noinline)) static void kernel(double *s, double *seen, const double *pa, const double *pb) {
  for (int i = 0; i < N; i += 2) {
    v2d c[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    for (int k = 0; k < N; k++) {
      v2d l;
      memcpy(&l, pa + i * N + 2 * k, sizeof l);
      for (int h = 0; h < 2; h++) {
        v4i b;
        memcpy(&b, pb + 4 * k + 2 * h, sizeof b);
        memcpy(seen + 4 * k + 2 * h, &b, sizeof b);
        c[2 * h] += l * (v2d)__builtin_shufflevector(b, b, 0, 1, 0, 1);
        c[2 * h + 1] += l * (v2d)__builtin_shufflevector(b, b, 2, 3, 2, 3);
      }
    }
    for (int j = 0; j < 4; j++) memcpy(s + j * N + i, &c[j], sizeof c[j]);
  }
}

/* sum((a^T a) .* W) + sum(a .* a) / 2 */
static double gram(double *x) {
  double pa[N * N], pb[N * N], s[N * N], seen[N * N];
  pack_lhs(pa, x);
  pack_rhs(pb, x);
  kernel(s, seen, pa, pb);
  double out = 0;
  for (int j = 0; j < N * N; j++) out += s[j] * W[j] + 0.5 * seen[j] * seen[j];
  return out;
}
DECLARE_FD(gram)

int main(void) {
  e2e_begin("memory/packed_lanes");
  double x[N * N], g[N * N];
  for (int j = 0; j < N * N; j++) x[j] = 0.2 * sin(0.7 * j) + 0.05 * (j % 7);
  /* a (W + W^T) + a */
  for (int r = 0; r < N; r++)
    for (int c = 0; c < N; c++) {
      double v = 0;
      for (int k = 0; k < N; k++) v += x[k * N + r] * (W[c * N + k] + W[k * N + c]);
      g[c * N + r] = v + x[c * N + r];
    }
  CHECK_BOTH(gram, x, N * N, g);
  return e2e_finish();
}
