// Stack scratch arrays aligned by hand (address arithmetic through uintptr_t) and with _Alignas:
// the shadow of a pointer made from an integer is the base's shadow at the same offset.
#include "both.h"
#include <stdint.h>

static volatile int len = 4;

static double by_hand(double *x) {
  int n = len;
  double raw[4 + 8];
  double *t = (double *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
  for (int i = 0; i < n; i++) t[i] = x[i] * x[(i + 1) % n];
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * t[(i + 2) % n];
  return s;
}
DECLARE_FD(by_hand)

static double declared(double *x) {
  int n = len;
  _Alignas(64) double t[4];
  for (int i = 0; i < n; i++) t[i] = sin(x[i]);
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * t[n - 1 - i] * (i + 1);
  return s;
}
DECLARE_FD(declared)

int main(void) {
  e2e_begin("memory/aligned_stack");
  double x[4] = {0.5, -1.25, 2.0, 0.75};
  int n = len;
  double t[4], g[4] = {0}, gd[4] = {0};
  for (int i = 0; i < n; i++) t[i] = x[i] * x[(i + 1) % n];
  for (int i = 0; i < n; i++) {
    double a = t[(i + 2) % n], b = t[i];
    /* d(t_i t_j) = a dt_i + b dt_j */
    g[i] += a * x[(i + 1) % n]; g[(i + 1) % n] += a * x[i];
    int j = (i + 2) % n;
    g[j] += b * x[(j + 1) % n]; g[(j + 1) % n] += b * x[j];
  }
  CHECK_BOTH(by_hand, x, 4, g);
  for (int i = 0; i < n; i++) {
    int j = n - 1 - i;
    gd[i] += cos(x[i]) * sin(x[j]) * (i + 1);
    gd[j] += sin(x[i]) * cos(x[j]) * (i + 1);
  }
  CHECK_BOTH(declared, x, 4, gd);
  return e2e_finish();
}
