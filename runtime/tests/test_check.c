/* Unit tests of the run-time derivative check (plain asserts), calling its API as the code
 * adcc generates would; built and run by tests/test_check_derivatives.py. */
#undef NDEBUG
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adcc_check.h"

static const int32_t DOUBLES[] = {8, 1, 0, ADCC_CHECK_DOUBLE};
static const int32_t FLOATS[] = {4, 1, 0, ADCC_CHECK_FLOAT};
static int writes_global; /* the primal's side effect, which the check must not show */

/* f(x, a) = a * sum x_i^2 + x_0 * x_2; also writes y = 2 x (an output) and bumps a global. */
typedef struct {
  double *x, *y;
  double a;
} frame_f;

static double f(double *x, double *y, double a) {
  writes_global++;
  for (int i = 0; i < 3; i++) y[i] = 2 * x[i];
  return a * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) + x[0] * x[2];
}

static double eval_f(adcc_check *c, void *frame) {
  frame_f *fr = frame;
  return f(fr->x, fr->y, adcc_check_point(c, 0));
}

/* Sites are registered for the summary at exit: they live as long as the program. */
static adcc_check_site sites[16];
static int nsites;

static adcc_check_site *site(int mode, int width) {
  adcc_check_site *s = &sites[nsites++];
  s->where = "test_check.c:1";
  s->function = "f";
  s->mode = mode;
  s->width = width;
  return s;
}

/* Reverse mode of f with shadows dx (input adjoints, +=) and dy (seeds of y, consumed). */
static void reverse_f(adcc_check_site *s, double *x, double *dx, double *y, double *dy, double a, double error) {
  adcc_check *c = adcc_check_begin(s, 1, 2, ADCC_CHECK_DOUBLE);
  assert(c);
  void *sx[1] = {dx}, *sy[1] = {dy};
  adcc_check_scalar(c, a, ADCC_CHECK_DOUBLE, NULL);
  adcc_check_region(c, x, 3 * sizeof(double), DOUBLES, sx);
  adcc_check_region(c, y, 3 * sizeof(double), DOUBLES, sy);
  frame_f fr = {x, y, a};
  adcc_check_start(c, eval_f, &fr);
  f(x, y, a); /* the derivative's primal part */
  double da = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
  for (int i = 0; i < 3; i++) dx[i] += 2 * a * x[i] * (1 + error) + 2 * dy[i];
  dx[0] += x[2];
  dx[2] += x[0];
  for (int i = 0; i < 3; i++) dy[i] = 0;
  adcc_check_result(c, 0, da);
  adcc_check_finish(c);
}

static void test_reverse(void) {
  adcc_check_site *s = site(ADCC_CHECK_REVERSE, 1);
  double x[3] = {1.5, -2, 0.25}, dx[3] = {0.5, 0, 0}, y[3], dy[3] = {1, -1, 3};
  int before = writes_global;
  reverse_f(s, x, dx, y, dy, 0.7, 0.0);
  assert(writes_global == before + 1); /* only the derivative's own primal ran here */
  assert(s->calls == 1 && s->checked == 1 && s->failed == 0 && s->inconclusive == 0);
  reverse_f(s, x, dx, y, dy, 0.7, 0.01); /* a 1% error in one partial */
  assert(s->calls == 2 && s->checked == 2 && s->failed == 1);
}

/* Forward mode of f: tangent of the result, tangents of y written into dy. */
static void test_forward(double error, int expect_failed) {
  adcc_check_site *s = site(ADCC_CHECK_FORWARD, 2);
  double x[3] = {1.5, -2, 0.25}, y[3] = {0}, a = 0.7;
  double dx0[3] = {1, 0, 0}, dx1[3] = {0.1, 0.2, -0.3}, dy0[3] = {0}, dy1[3] = {0};
  double da[2] = {0, 1};
  adcc_check *c = adcc_check_begin(s, 1, 2, ADCC_CHECK_DOUBLE);
  assert(c);
  void *sx[2] = {dx0, dx1}, *sy[2] = {dy0, dy1};
  adcc_check_scalar(c, a, ADCC_CHECK_DOUBLE, da);
  adcc_check_region(c, x, sizeof x, DOUBLES, sx);
  adcc_check_region(c, y, sizeof y, DOUBLES, sy);
  frame_f fr = {x, y, a};
  adcc_check_start(c, eval_f, &fr);
  double *dxs[2] = {dx0, dx1}, *dys[2] = {dy0, dy1};
  for (int w = 0; w < 2; w++) {
    double t = da[w] * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int i = 0; i < 3; i++) t += 2 * a * x[i] * dxs[w][i];
    t += dxs[w][0] * x[2] + x[0] * dxs[w][2] * (1 + error);
    for (int i = 0; i < 3; i++) dys[w][i] = 2 * dxs[w][i];
    adcc_check_result(c, w, t);
  }
  f(x, y, a);
  adcc_check_finish(c);
  assert(s->checked == 1 && s->failed == expect_failed && s->inconclusive == 0);
}

/* g(x) = |x - 1| + max(x, 2) in single precision: a kink away from x is no false alarm; at the
 * kink itself the check is inconclusive, never failed. */
typedef struct {
  float *x;
} frame_g;

static double eval_g(adcc_check *c, void *frame) {
  (void)c;
  float v = *((frame_g *)frame)->x;
  return fabsf(v - 1) + fmaxf(v, 2);
}

static void kink(float at, float derivative, int expect_passed) {
  adcc_check_site *s = site(ADCC_CHECK_REVERSE, 1);
  float x = at, dx = 0;
  adcc_check *c = adcc_check_begin(s, 0, 1, ADCC_CHECK_FLOAT);
  void *sx[1] = {&dx};
  adcc_check_region(c, &x, sizeof x, FLOATS, sx);
  frame_g fr = {&x};
  adcc_check_start(c, eval_g, &fr);
  dx += derivative;
  adcc_check_finish(c);
  assert(s->checked == 1 && s->failed == 0);
  assert(s->inconclusive == (expect_passed ? 0 : 1));
}

static void test_not_checkable(void) {
  adcc_check_site *s = site(ADCC_CHECK_REVERSE, 1);
  s->unchecked = "a reason";
  assert(adcc_check_begin(s, 0, 0, ADCC_CHECK_NONE) == NULL && s->skipped == 1);
  /* the same memory passed twice cannot be perturbed independently */
  adcc_check_site *t = site(ADCC_CHECK_REVERSE, 1);
  double x[2] = {1, 2}, dx[2] = {0, 0}, dx2[2] = {0, 0};
  adcc_check *c = adcc_check_begin(t, 0, 2, ADCC_CHECK_DOUBLE);
  void *s1[1] = {dx}, *s2[1] = {dx2};
  adcc_check_region(c, x, sizeof x, DOUBLES, s1);
  adcc_check_region(c, x + 1, sizeof(double), DOUBLES, s2);
  adcc_check_start(c, eval_g, NULL);
  adcc_check_finish(c);
  assert(t->skipped == 1 && t->checked == 0);
  /* memory of unknown size with a repeating layout */
  adcc_check_site *u = site(ADCC_CHECK_REVERSE, 1);
  c = adcc_check_begin(u, 0, 1, ADCC_CHECK_DOUBLE);
  adcc_check_region(c, x, -1, DOUBLES, s1);
  adcc_check_start(c, eval_g, NULL);
  adcc_check_finish(c);
  assert(u->skipped == 1 && u->checked == 0);
}

int main(void) {
  setenv("ADCC_CHECK_DERIVATIVES", "all", 1);
  test_reverse();
  test_forward(0.0, 0);
  test_forward(0.05, 1);
  kink(3.0f, 2.0f, 1);
  kink(1.0f, 1.0f, 0);
  test_not_checkable();
  printf("check tests passed\n");
  return 0;
}
