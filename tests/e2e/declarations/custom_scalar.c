// Custom rules of functions of scalars (Enzyme's __enzyme_register_gradient_* and
// __enzyme_register_derivative_*), used at depth 2 inside a loop, in both modes:
// - p(x, y): augmented pass returns {tape (heap), primal}, reverse returns a struct of two
//   adjoints and frees the tape; forward derivative returns {primal, tangent};
// - q(y): augmented pass returns the primal only (no tape), reverse returns one adjoint; forward
//   derivative returns the tangent only;
// - s3(x, y, z): augmented pass returns nothing, reverse returns a struct of three adjoints
//   (through a hidden sret pointer); no forward rule (its body is differentiated).
// Counters prove the rules ran (once per call of each function) and the bodies were not
// differentiated on top of them (the derivatives match finite differences).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

static int n_aug, n_rev, n_fwd, q_aug_n, q_rev_n, q_fwd_n, s_aug_n, s_rev_n;

__attribute__((noinline)) double p(double x, double y) { return x * x * y + sin(y); }
double q(double y) { return exp(0.5 * y); } /* inlinable: the rule must survive inlining */
__attribute__((noinline)) double s3(double x, double y, double z) { return x * y + y * z + z * x; }

typedef struct { double *tape; double primal; } p_aug_t;
static p_aug_t p_aug(double x, double y) {
  n_aug++;
  double *t = (double *)malloc(2 * sizeof(double));
  t[0] = x;
  t[1] = y;
  p_aug_t r = {t, x * x * y + sin(y)};
  return r;
}
typedef struct { double dx, dy; } grad2;
static grad2 p_rev(double x, double y, double dret, double *t) {
  n_rev++;
  grad2 g = {2 * t[0] * t[1] * dret, (t[0] * t[0] + cos(t[1])) * dret};
  free(t);
  (void)x, (void)y;
  return g;
}
void *__enzyme_register_gradient_p[3] = {(void *)p, (void *)p_aug, (void *)p_rev};

typedef struct { double primal, tangent; } dual;
static dual p_fwd(double x, double dx, double y, double dy) {
  n_fwd++;
  dual r = {x * x * y + sin(y), 2 * x * y * dx + (x * x + cos(y)) * dy};
  return r;
}
void *__enzyme_register_derivative_p[2] = {(void *)p, (void *)p_fwd};

static double q_aug(double y) { q_aug_n++; return exp(0.5 * y); }
static double q_rev(double y, double dret) { q_rev_n++; return 0.5 * exp(0.5 * y) * dret; }
void *__enzyme_register_gradient_q[3] = {(void *)q, (void *)q_aug, (void *)q_rev};
static double q_fwd(double y, double dy) { q_fwd_n++; return 0.5 * exp(0.5 * y) * dy; }
void *__enzyme_register_derivative_q[2] = {(void *)q, (void *)q_fwd};

static void s_aug(double x, double y, double z) { s_aug_n++; (void)x, (void)y, (void)z; }
typedef struct { double dx, dy, dz; } grad3;
static grad3 s_rev(double x, double y, double z, double dret) {
  s_rev_n++;
  grad3 g = {(y + z) * dret, (x + z) * dret, (y + x) * dret};
  return g;
}
void *__enzyme_register_gradient_s3[3] = {(void *)s3, (void *)s_aug, (void *)s_rev};

static double h(double x, double y) { return p(x, y) * q(y) + s3(x, y, x * y); }

static double g(double x, double y, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += h(x + 0.1 * i, y);
  return s;
}

static void dg(double x, double y, int n, double *gx, double *gy) {
  *gx = *gy = 0.0;
  for (int i = 0; i < n; i++) {
    double a = x + 0.1 * i, pv = a * a * y + sin(y), qv = exp(0.5 * y);
    *gx += 2 * a * y * qv + (y + a * y) + (a + y) * y;
    *gy += (a * a + cos(y)) * qv + pv * 0.5 * qv + (a + a * y) + (y + a) * a;
  }
}

static int nn;
static double gv(double *v, void *c) { (void)c; return g(v[0], v[1], nn); }

typedef struct { double dx, dy; } G2;
extern G2 __enzyme_autodiff2(void *, ...);

int main(void) {
  e2e_begin("declarations/custom_scalar");
  volatile int vn = 3;
  int n = vn;
  nn = n;
  double x = 0.7, y = 1.3, v[2] = {x, y}, wx, wy;
  dg(x, y, n, &wx, &wy);
#ifdef ADCC_SELFTEST
  G2 r = {wx, wy};
  double tx = wx, ty = wy;
#else
  G2 r = __enzyme_autodiff2((void *)g, x, y, n);
  check_val("augmented calls of p", 0, n_aug, n);
  check_val("reverse calls of p", 0, n_rev, n);
  check_val("augmented calls of q", 0, q_aug_n, n);
  check_val("reverse calls of q", 0, q_rev_n, n);
  check_val("augmented calls of s3", 0, s_aug_n, n);
  check_val("reverse calls of s3", 0, s_rev_n, n);
  double tx = __enzyme_fwddiff((void *)g, x, 1.0, y, 0.0, n);
  double ty = __enzyme_fwddiff((void *)g, x, 0.0, y, 1.0, n);
  check_val("forward calls of p", 0, n_fwd, 2 * n);
  check_val("forward calls of q", 0, q_fwd_n, 2 * n);
#endif
  check_an("reverse dg/dx", 0, r.dx, wx);
  check_an("reverse dg/dy", 0, r.dy, wy);
  check_fd("reverse dg/dx", 0, r.dx, fdv(gv, v, 0, 0));
  check_fd("reverse dg/dy", 0, r.dy, fdv(gv, v, 1, 0));
  check_an("forward dg/dx", 0, tx, wx);
  check_an("forward dg/dy", 0, ty, wy);
  return e2e_finish();
}
