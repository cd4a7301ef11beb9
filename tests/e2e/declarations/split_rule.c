// The program's split forward rules (Enzyme's __enzyme_register_splitderivative_*), used by
// __enzyme_fwdsplit inside a loop:
// - w(x, y): aug returns {tape (heap), primal}; split returns {primal, tangent} from the tape's
//   values and frees it. w's body is deliberately crude (a wrong derivative): only the rule may
//   give the tangent, and the values it saved are those of the recorded run;
// - v(y): aug returns the tape only (w's primal then comes from v itself, run in the recorded
//   pass); split returns the tangent only.
// Counters prove the rules ran once per call (aug in the recorded pass, split in the tangent pass).
#include "../e2e.h"

extern int enzyme_dup, enzyme_const;
void *__enzyme_augmentfwd(void *, ...);
double __enzyme_fwdsplit(void *, ...);

static int w_aug_n, w_split_n, v_aug_n, v_split_n;

/* the rule stands for x^2 y + sin(y); the body rounds x (its derivative in x is 0) */
__attribute__((noinline)) double w(double x, double y) { return floor(x * 1e3) * 1e-3 * x * y + sin(y); }
double v(double y) { return exp(0.5 * y); } /* inlinable: the rule must survive inlining */

typedef struct { double *tape; double primal; } w_aug_t;
static w_aug_t w_aug(double x, double y) {
  w_aug_n++;
  double *t = (double *)malloc(2 * sizeof(double));
  t[0] = x;
  t[1] = y;
  w_aug_t r = {t, x * x * y + sin(y)};
  return r;
}
typedef struct { double primal, tangent; } dual;
static dual w_split(double x, double dx, double y, double dy, void *tape) {
  w_split_n++;
  double *t = (double *)tape;
  dual r = {t[0] * t[0] * t[1] + sin(t[1]), 2 * t[0] * t[1] * dx + (t[0] * t[0] + cos(t[1])) * dy};
  free(t);
  (void)x, (void)y;
  return r;
}
void *__enzyme_register_splitderivative_w[3] = {(void *)w, (void *)w_aug, (void *)w_split};

static void *v_aug(double y) { v_aug_n++; (void)y; return NULL; }
static double v_split(double y, double dy, void *tape) { v_split_n++; (void)tape; return 0.5 * exp(0.5 * y) * dy; }
void *__enzyme_register_splitderivative_v[3] = {(void *)v, (void *)v_aug, (void *)v_split};

static double exact_w(double x, double y) { return x * x * y + sin(y); }

#define N 4
/* sum_i w(x_i, v(x_{i+1})) */
static double f(const double *x, int n) {
  double s = 0.0;
  for (int i = 0; i + 1 < n; i++) s += w(x[i], v(x[i + 1]));
  return s;
}
static double f_exact(double *x, void *ctx) {
  double s = 0.0;
  for (int i = 0; i + 1 < *(int *)ctx; i++) s += exact_w(x[i], exp(0.5 * x[i + 1]));
  return s;
}
static double f_dot(const double *x, const double *dx, int n) {
  double t = 0.0;
  for (int i = 0; i + 1 < n; i++) {
    double y = exp(0.5 * x[i + 1]), dy = 0.5 * y * dx[i + 1];
    t += 2 * x[i] * y * dx[i] + (x[i] * x[i] + cos(y)) * dy;
  }
  return t;
}

int main(void) {
  e2e_begin("declarations/split_rule");
  int n = N;
  double x[N] = {0.3, -0.7, 1.1, 0.45}, dx[N] = {1.0, -0.5, 0.25, 2.0};
#ifdef ADCC_SELFTEST
  double d = f_dot(x, dx, n);
  w_aug_n = w_split_n = v_aug_n = v_split_n = N - 1;
#else
  void *tape = __enzyme_augmentfwd((void *)f, enzyme_dup, x, (double *)NULL, enzyme_const, n);
  double d = __enzyme_fwdsplit((void *)f, enzyme_dup, (double *)NULL, dx, enzyme_const, n, tape);
#endif
  check_an("f tangent", 0, d, f_dot(x, dx, n));
  check_fd("f tangent", 0, d, fd_dir(f_exact, x, dx, n, &n));
  check_val("w_aug calls", 0, w_aug_n, N - 1);
  check_val("w_split calls", 0, w_split_n, N - 1);
  check_val("v_aug calls", 0, v_aug_n, N - 1);
  check_val("v_split calls", 0, v_split_n, N - 1);
  return e2e_finish();
}
