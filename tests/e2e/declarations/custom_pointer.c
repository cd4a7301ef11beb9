// Custom rules of functions taking pointers (their shadows follow them) and integers (followed
// by themselves, Enzyme's convention; a rule written without them is accepted too), in both modes:
// - scale_sq(out, in, n, a): out = a in^2; augmented pass returns a 4-member struct tape by value
//   (hidden sret pointer; the reverse pass takes it by value, byval) holding a heap copy of `in`,
//   which the caller overwrites after the call; reverse returns the adjoint of `a`;
// - dot(u, v, n): augmented pass returns the primal; reverse pass without the integer's shadow;
//   forward derivative returns the tangent only;
// - pick(arr, i): returns a pointer; augmented pass returns {tape, primal, shadow};
// - pick2(arr, i): the same with {primal, shadow}; forward derivatives return {primal, shadow}.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

#define N 4
static int calls[8];

__attribute__((noinline)) void scale_sq(double *out, const double *in, int n, double a) {
  for (int i = 0; i < n; i++) out[i] = a * in[i] * in[i];
}
typedef struct { double *saved; double a; int n; int spare; } tape4;
static tape4 scale_sq_aug(double *out, double *dout, const double *in, const double *din, int n, int n2,
                          double a) {
  calls[0]++;
  (void)dout, (void)din, (void)n2;
  tape4 t = {(double *)malloc((size_t)n * sizeof(double)), a, n, 0};
  for (int i = 0; i < n; i++) {
    t.saved[i] = in[i];
    out[i] = a * in[i] * in[i];
  }
  return t;
}
static double scale_sq_rev(double *out, double *dout, const double *in, double *din, int n, int n2,
                           double a, tape4 t) {
  calls[1]++;
  (void)out, (void)in, (void)n2, (void)a;
  double da = 0.0;
  for (int i = 0; i < t.n; i++) {
    din[i] += 2.0 * t.a * t.saved[i] * dout[i];
    da += t.saved[i] * t.saved[i] * dout[i];
    dout[i] = 0.0; /* out was overwritten by the call */
  }
  free(t.saved);
  (void)n;
  return da;
}
void *__enzyme_register_gradient_scale_sq[3] = {(void *)scale_sq, (void *)scale_sq_aug, (void *)scale_sq_rev};
static void scale_sq_fwd(double *out, double *dout, const double *in, const double *din, int n, int n2,
                         double a, double da) {
  calls[2]++;
  (void)n2;
  for (int i = 0; i < n; i++) {
    out[i] = a * in[i] * in[i];
    dout[i] = da * in[i] * in[i] + 2.0 * a * in[i] * din[i];
  }
}
void *__enzyme_register_derivative_scale_sq[2] = {(void *)scale_sq, (void *)scale_sq_fwd};

__attribute__((noinline)) double dot(const double *u, const double *v, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += u[i] * v[i];
  return s;
}
static double dot_aug(const double *u, const double *du, const double *v, const double *dv, int n) {
  calls[3]++;
  (void)du, (void)dv;
  return dot(u, v, n);
}
static void dot_rev(const double *u, double *du, const double *v, double *dv, int n, double dret) {
  calls[4]++;
  for (int i = 0; i < n; i++) {
    du[i] += v[i] * dret;
    dv[i] += u[i] * dret;
  }
}
void *__enzyme_register_gradient_dot[3] = {(void *)dot, (void *)dot_aug, (void *)dot_rev};
static double dot_fwd(const double *u, const double *du, const double *v, const double *dv, int n) {
  calls[5]++;
  double t = 0.0;
  for (int i = 0; i < n; i++) t += du[i] * v[i] + u[i] * dv[i];
  return t;
}
void *__enzyme_register_derivative_dot[2] = {(void *)dot, (void *)dot_fwd};

__attribute__((noinline)) double *pick(double *arr, int i) { return arr + i; }
typedef struct { void *tape; double *primal, *shadow; } pick_aug_t;
static pick_aug_t pick_aug(double *arr, double *darr, int i, int i2) {
  calls[6]++;
  (void)i2;
  pick_aug_t r = {0, arr + i, darr + i};
  return r;
}
static void pick_rev(double *arr, double *darr, int i, int i2, void *tape) { (void)arr, (void)darr, (void)i, (void)i2, (void)tape; }
void *__enzyme_register_gradient_pick[3] = {(void *)pick, (void *)pick_aug, (void *)pick_rev};
typedef struct { double *primal, *shadow; } ptr_pair;
static ptr_pair pick_fwd(double *arr, double *darr, int i, int i2) {
  (void)i2;
  ptr_pair r = {arr + i, darr + i};
  return r;
}
void *__enzyme_register_derivative_pick[2] = {(void *)pick, (void *)pick_fwd};

__attribute__((noinline)) double *pick2(double *arr, int i) { return arr + i; }
static ptr_pair pick2_aug(double *arr, double *darr, int i, int i2) {
  calls[7]++;
  (void)i2;
  ptr_pair r = {arr + i, darr + i};
  return r;
}
static void pick2_rev(double *arr, double *darr, int i, int i2) { (void)arr, (void)darr, (void)i, (void)i2; }
void *__enzyme_register_gradient_pick2[3] = {(void *)pick2, (void *)pick2_aug, (void *)pick2_rev};
void *__enzyme_register_derivative_pick2[2] = {(void *)pick2, (void *)pick_fwd};

static double f(double *x, int n, double a) {
  double tmp[N], y[N];
  for (int i = 0; i < n; i++) tmp[i] = x[i] + 1.0;
  scale_sq(y, tmp, n, a);
  for (int i = 0; i < n; i++) tmp[i] = 0.5; /* the rule's tape keeps the old values */
  double s = dot(y, x, n);
  s += *pick(x, 1) * *pick2(y, 2) + tmp[0];
  return s;
}

static double grad(const double *x, double a, double *gx) {
  double y[N], ga = 0.0;
  for (int j = 0; j < N; j++) y[j] = a * (x[j] + 1) * (x[j] + 1);
  for (int j = 0; j < N; j++) {
    gx[j] = y[j] + x[j] * 2 * a * (x[j] + 1);
    ga += (x[j] + 1) * (x[j] + 1) * x[j];
  }
  gx[1] += y[2];
  gx[2] += x[1] * 2 * a * (x[2] + 1);
  ga += x[1] * (x[2] + 1) * (x[2] + 1);
  return ga;
}

static double fv(double *v, void *c) { (void)c; return f(v, N, v[N]); }

int main(void) {
  e2e_begin("declarations/custom_pointer");
  double x[N] = {0.3, -0.7, 1.1, 0.45}, dx[N] = {0}, gx[N], v[N + 1];
  double a = 1.25;
  double ga = grad(x, a, gx);
#ifdef ADCC_SELFTEST
  for (int j = 0; j < N; j++) dx[j] += gx[j];
  double da = ga;
#else
  double da = __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, N, enzyme_out, a);
  const int expect[8] = {1, 1, 0, 1, 1, 0, 1, 1};
  for (int k = 0; k < 8; k++) check_val("rule calls (reverse)", k, calls[k], expect[k]);
#endif
  for (int j = 0; j < N; j++) v[j] = x[j];
  v[N] = a;
  for (int j = 0; j < N; j++) {
    check_an("dx", j, dx[j], gx[j]);
    check_fd("dx", j, dx[j], fdv(fv, v, j, 0));
  }
  check_an("da", 0, da, ga);
  check_fd("da", 0, da, fdv(fv, v, N, 0));
  /* forward mode: the directional derivative along (tx, ta) */
  double tx[N] = {1.0, -0.5, 0.25, 2.0}, ta = 0.75, dir[N + 1];
  double want = ga * ta;
  for (int j = 0; j < N; j++) want += gx[j] * tx[j], dir[j] = tx[j];
  dir[N] = ta;
#ifdef ADCC_SELFTEST
  double t = want;
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, tx, enzyme_const, N, enzyme_dup, a, ta);
  check_val("forward calls of scale_sq", 0, calls[2], 1);
  check_val("forward calls of dot", 0, calls[5], 1);
#endif
  check_an("tangent", 0, t, want);
  check_fd("tangent", 0, t, fd_dir(fv, v, dir, N + 1, 0));
  return e2e_finish();
}
