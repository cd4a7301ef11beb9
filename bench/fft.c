/* Radix-2 decimation-in-time FFT followed by the inverse FFT, in place on interleaved complex
 * doubles (re, im), then loss = sum_k sin(z_k / n)^2 over the 2n reals z of the unscaled round
 * trip (z / n = x up to rounding, so the gradient is sin(2x), and both transforms are differentiated).
 * Usage: fft [--quick] [--size LOG2N]  (default n = 2^14 complex points). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup;
int enzyme_const;

static void bit_reverse(double *z, int n) {
  for (int i = 1, j = 0; i < n; i++) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double re = z[2 * i], im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
  }
}

/* sign = -1: forward transform; +1: inverse without the 1/n scaling. */
static void fft_inplace(double *z, int n, double sign) {
  bit_reverse(z, n);
  for (int len = 2; len <= n; len <<= 1) {
    double angle = sign * 2.0 * M_PI / len;
    for (int k = 0; k < len / 2; k++) {
      double wr = cos(angle * k), wi = sin(angle * k);
      for (int start = 0; start < n; start += len) {
        int a = start + k, b = start + k + len / 2;
        double br = z[2 * b] * wr - z[2 * b + 1] * wi;
        double bi = z[2 * b] * wi + z[2 * b + 1] * wr;
        z[2 * b] = z[2 * a] - br;
        z[2 * b + 1] = z[2 * a + 1] - bi;
        z[2 * a] += br;
        z[2 * a + 1] += bi;
      }
    }
  }
}

__attribute__((noinline))
static double fft_roundtrip(double *z, int n) {
  fft_inplace(z, n, -1.0);
  fft_inplace(z, n, 1.0);
  double loss = 0.0;
  for (int i = 0; i < 2 * n; i++) {
    double s = sin(z[i] / n);
    loss += s * s;
  }
  return loss;
}

typedef struct {
  int n;
  double *x, *work, *grad;
} fft_problem;

static double fft_loss(const double *x, void *ctx) {
  fft_problem *p = ctx;
  memcpy(p->work, x, sizeof(double) * 2 * p->n);
  return fft_roundtrip(p->work, p->n);
}

static volatile double sink;
static void run_primal(void *ctx) { sink = fft_loss(((fft_problem *)ctx)->x, ctx); }

/* The transform is in place: the input is copied to the work buffer, and the gradient w.r.t. the
 * input is the adjoint left in the work buffer's shadow. */
static void run_grad(void *ctx) {
  fft_problem *p = ctx;
  memcpy(p->work, p->x, sizeof(double) * 2 * p->n);
  memset(p->grad, 0, sizeof(double) * 2 * p->n);
  __enzyme_autodiff((void *)fft_roundtrip, enzyme_dup, p->work, p->grad, enzyme_const, p->n);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  int logn = a.size > 0 ? (int)a.size : a.quick ? 6 : 14;
  fft_problem p = {1 << logn, NULL, NULL, NULL};
  p.x = malloc(sizeof(double) * 2 * p.n);
  p.work = malloc(sizeof(double) * 2 * p.n);
  p.grad = malloc(sizeof(double) * 2 * p.n);
  for (int i = 0; i < 2 * p.n; i++) p.x[i] = 1.5 * bench_uniform();
  run_grad(&p);
  double err = bench_check_grad(fft_loss, &p, p.x, p.grad, 2L * p.n, 4, 1e-3);
  double tp = bench_time(&a, run_primal, &p);
  double tg = bench_time(&a, run_grad, &p);
  char size[64];
  snprintf(size, sizeof size, "n%d", p.n);
  return bench_report("fft", size, tp, tg, err);
}
