// Forward mode of a function that returns memory it allocated: the tangent comes back as the
// shadow allocation, and the program releases both with free() (as with Enzyme), many times
// over (a shadow adcc allocated is a plain heap block).
#include "../e2e.h"

extern double *__enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_dup_return, enzyme_primal_return;
typedef struct { double *value, *tangent; } Both;
extern Both __enzyme_fwddiff_both(void *, ...);

/* r_i = x_i^2 sin(x_{i+1}) (cyclic), in a fresh buffer */
static double *wave(const double *x, int n) {
  double *r = malloc((size_t)n * sizeof *r);
  for (int i = 0; i < n; i++) r[i] = x[i] * x[i] * sin(x[(i + 1) % n]);
  return r;
}
static double wave_i(double *x, void *ctx) {
  int i = *(int *)ctx;
  double *r = wave(x, 3);
  double v = r[i];
  free(r);
  return v;
}
static double tangent_i(const double *x, const double *dx, int i) {
  int j = (i + 1) % 3;
  return 2 * x[i] * sin(x[j]) * dx[i] + x[i] * x[i] * cos(x[j]) * dx[j];
}

int main(void) {
  e2e_begin("forward/returned_allocation");
  double x[3] = {0.8, -1.1, 0.4}, dx[3] = {1.0, 0.5, -0.25};
  for (int round = 0; round < 200; round++) {
#ifdef ADCC_SELFTEST
    double *t = malloc(3 * sizeof *t);
    for (int i = 0; i < 3; i++) t[i] = tangent_i(x, dx, i);
#else
    double *t = __enzyme_fwddiff((void *)wave, enzyme_dup, x, dx, enzyme_const, 3);
#endif
    if (round == 0)
      for (int i = 0; i < 3; i++) {
        double fd = 0;
        for (int k = 0; k < 3; k++) fd += dx[k] * fdv(wave_i, x, k, &i);
        check_an("tangent", i, t[i], tangent_i(x, dx, i));
        check_fd("tangent", i, t[i], fd);
      }
    free(t);
  }
  /* with the primal: both buffers are the program's to free */
#ifdef ADCC_SELFTEST
  Both b = {wave(x, 3), malloc(3 * sizeof(double))};
  for (int i = 0; i < 3; i++) b.tangent[i] = tangent_i(x, dx, i);
#else
  Both b = __enzyme_fwddiff_both((void *)wave, enzyme_primal_return, enzyme_dup, x, dx, enzyme_const, 3);
#endif
  for (int i = 0; i < 3; i++) {
    check_val("primal", i, b.value[i], x[i] * x[i] * sin(x[(i + 1) % 3]));
    check_an("tangent with primal", i, b.tangent[i], tangent_i(x, dx, i));
  }
  free(b.value);
  free(b.tangent);
  return e2e_finish();
}
