/* Kernels of the bridge tests (tests/test_bridge_*.py); signatures in SIGNATURES of
 * tests/bridge_helpers.py. Bridge convention: outputs, inputs, then one int64_t per dimension. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* y[j] = tanh(sum_i w[i, j] x[i]) + c[0];  s = sum_i x[i]^2 c[1] */
void mix(double *y, double *s, const double *x, const double *w, const double *c, int64_t n, int64_t m) {
  for (int64_t j = 0; j < m; j++) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += w[i * m + j] * x[i];
    y[j] = tanh(acc) + c[0];
  }
  for (int64_t i = 0; i < n; i++) *s += x[i] * x[i] * c[1];
}

/* Heap scratch and a data-dependent branch: y[i] = x[i] > 0 ? exp(-x[i]) * t[i] : sin(x[i]) * t[i],
 * with t the running product of (1 + x/4) (a recurrence through malloc'd memory). */
void scan(double *y, const double *x, int64_t n) {
  double *t = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double p = 1.0;
  for (int64_t i = 0; i < n; i++) {
    p *= 1.0 + 0.25 * x[i];
    t[i] = p;
  }
  for (int64_t i = 0; i < n; i++) y[i] = (x[i] > 0 ? exp(-x[i]) : sin(x[i])) * t[i];
  free(t);
}

/* float32: y = x * sqrt(1 + x^2), elementwise, on a fixed-size 2 x k block */
void smooth32(float *y, const float *x, int64_t k) {
  for (int64_t i = 0; i < 2 * k; i++) y[i] = x[i] * sqrtf(1.0f + x[i] * x[i]);
}

/* Crashes on purpose when x[0] < 0 (null write) or x[0] > 1e6 (abort). */
void crash(double *y, const double *x, int64_t n) {
  if (x[0] < 0) *(volatile double *)0 = 1.0;
  if (x[0] > 1e6) abort();
  for (int64_t i = 0; i < n; i++) y[i] = 2.0 * x[i];
}
