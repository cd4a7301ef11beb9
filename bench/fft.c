/* Radix-2 decimation-in-time FFT followed by the inverse FFT, in place on interleaved complex
 * doubles (re, im), then loss = sum_k sin(z_k / n)^2 over the 2n reals z of the unscaled round
 * trip (z / n = x up to rounding, so the gradient is sin(2x), and both transforms are differentiated).
 * Two rows, the same algorithm, data and loss (#17):
 * - `fft`: written the way a C programmer tuning for speed would: a plan made once (the bit-reversal
 *   permutation and every stage's twiddles, as FFTW's plans and JAX's traced constants are), the
 *   butterflies of one block in the inner loop (unit stride, so the loop vectorizer takes it), and
 *   the first stage's twiddle 1 not multiplied;
 * - `fft_textbook`: the textbook loop order (twiddle outermost, the blocks strided inside), the
 *   twiddles computed with cos/sin in the transform.
 * Usage: fft [--quick] [--size LOG2N] [--only NAME]  (default n = 2^14 complex points). */
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

/* The plan of the tuned transform: rev = the bit-reversal permutation; stage `half` (butterflies
 * `half` apart, len = 2 half) takes its twiddles from twr[half + k] = cos(angle k) and
 * twi[d][half + k] = sin(angle k), k < half, with fft_inplace's angle = sign 2 pi / len
 * (d = 0: the forward transform, sign -1; d = 1: the inverse, sign +1). */
typedef struct {
  int *rev;
  double *twr, *twi[2];
} fft_plan;

static fft_plan fft_make_plan(int n) {
  fft_plan p = {malloc(sizeof(int) * n), malloc(sizeof(double) * n),
                {malloc(sizeof(double) * n), malloc(sizeof(double) * n)}};
  for (int i = 0, j = 0; i < n; i++) {
    p.rev[i] = j;
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
  }
  for (int half = 1; half < n; half <<= 1)
    for (int d = 0; d < 2; d++) {
      double angle = (d ? 1.0 : -1.0) * 2.0 * M_PI / (2 * half);
      for (int k = 0; k < half; k++) {
        p.twr[half + k] = cos(angle * k);
        p.twi[d][half + k] = sin(angle * k);
      }
    }
  return p;
}

static void fft_tuned(double *z, int n, const int *restrict rev, const double *restrict twr,
                      const double *restrict twi) {
  for (int i = 0; i < n; i++) {
    int j = rev[i];
    if (i < j) {
      double re = z[2 * i], im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
  }
  for (int a = 0; a < 2 * n; a += 4) { /* len = 2: the twiddle is 1 */
    double br = z[a + 2], bi = z[a + 3];
    z[a + 2] = z[a] - br;
    z[a + 3] = z[a + 1] - bi;
    z[a] += br;
    z[a + 1] += bi;
  }
  for (int half = 2; half < n; half <<= 1) {
    const double *wr = twr + half, *wi = twi + half;
    for (int start = 0; start < n; start += 2 * half) {
      double *za = z + 2 * start, *zb = za + 2 * half;
      for (int k = 0; k < half; k++) {
        double br = zb[2 * k] * wr[k] - zb[2 * k + 1] * wi[k];
        double bi = zb[2 * k] * wi[k] + zb[2 * k + 1] * wr[k];
        double ar = za[2 * k], ai = za[2 * k + 1];
        zb[2 * k] = ar - br;
        zb[2 * k + 1] = ai - bi;
        za[2 * k] = ar + br;
        za[2 * k + 1] = ai + bi;
      }
    }
  }
}

static double fft_loss_of(const double *z, int n) {
  double loss = 0.0;
  for (int i = 0; i < 2 * n; i++) {
    double s = sin(z[i] / n);
    loss += s * s;
  }
  return loss;
}

__attribute__((noinline))
static double fft_roundtrip_tuned(double *z, int n, const int *restrict rev, const double *restrict twr,
                                  const double *restrict twi_forward, const double *restrict twi_inverse) {
  fft_tuned(z, n, rev, twr, twi_forward);
  fft_tuned(z, n, rev, twr, twi_inverse);
  return fft_loss_of(z, n);
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
  fft_plan plan;
  int tuned;
} fft_problem;

static double fft_loss(const double *x, void *ctx) {
  fft_problem *p = ctx;
  memcpy(p->work, x, sizeof(double) * 2 * p->n);
  if (p->tuned)
    return fft_roundtrip_tuned(p->work, p->n, p->plan.rev, p->plan.twr, p->plan.twi[0], p->plan.twi[1]);
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
  if (p->tuned)
    __enzyme_autodiff((void *)fft_roundtrip_tuned, enzyme_dup, p->work, p->grad, enzyme_const, p->n,
                      enzyme_const, p->plan.rev, enzyme_const, p->plan.twr, enzyme_const, p->plan.twi[0],
                      enzyme_const, p->plan.twi[1]);
  else
    __enzyme_autodiff((void *)fft_roundtrip, enzyme_dup, p->work, p->grad, enzyme_const, p->n);
}

static int fft_bench(const bench_args *a, fft_problem *p, const char *name) {
  run_grad(p);
  double err = bench_check_grad(fft_loss, p, p->x, p->grad, 2L * p->n, 4, 1e-3);
  double tp = bench_time(a, run_primal, p);
  double tg = bench_time(a, run_grad, p);
  char size[64];
  snprintf(size, sizeof size, "n%d", p->n);
  return bench_report(name, size, tp, tg, err);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  int logn = a.size > 0 ? (int)a.size : a.quick ? 6 : 14;
  fft_problem p = {1 << logn, NULL, NULL, NULL, fft_make_plan(1 << logn), 0};
  p.x = malloc(sizeof(double) * 2 * p.n);
  p.work = malloc(sizeof(double) * 2 * p.n);
  p.grad = malloc(sizeof(double) * 2 * p.n);
  for (int i = 0; i < 2 * p.n; i++) p.x[i] = 1.5 * bench_uniform();
  /* the two transforms agree to rounding (the same twiddles; the compiler may contract differently) */
  p.tuned = 0;
  double textbook = fft_loss(p.x, &p);
  p.tuned = 1;
  double tuned = fft_loss(p.x, &p);
  if (!(fabs(tuned - textbook) <= 1e-9 * fabs(textbook))) {
    fprintf(stderr, "fft: the two implementations disagree: %.17g vs %.17g\n", tuned, textbook);
    return 1;
  }
  int rc = 0;
  if (bench_wanted(&a, "fft")) rc |= fft_bench(&a, &p, "fft");
  p.tuned = 0;
  if (bench_wanted(&a, "fft_textbook")) rc |= fft_bench(&a, &p, "fft_textbook");
  return rc;
}
