// Reverse mode through a switch inside a loop, on a const int opcode array: arithmetic cases,
// a fallthrough, a default, a case that skips the rest of the iteration with continue.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 10

static double f(const double *x, const int *op, int n) {
  double s = 1.0;
  for (int i = 0; i < n; i++) {
    double v = x[i];
    switch (op[i]) {
    case 0:
      s += v * v;
      break;
    case 1:
      s *= cos(v);
      break;
    case 2:
      s = s + 0.1 * exp(v) * s;
      /* fallthrough */
    case 3:
      s -= 0.5 * v;
      break;
    case 4:
      continue;
    default:
      s = s / (1.0 + v * v);
      break;
    }
    s += 0.01 * v * i;
  }
  return s * s;
}

/* Hand-written: one tangent sweep of f per input (exact derivative). */
static double tangent(const double *x, const int *op, int n, int which) {
  double s = 1.0, ds = 0.0;
  for (int i = 0; i < n; i++) {
    double v = x[i], dv = (i == which) ? 1.0 : 0.0;
    switch (op[i]) {
    case 0: ds += 2.0 * v * dv; s += v * v; break;
    case 1: ds = ds * cos(v) - s * sin(v) * dv; s *= cos(v); break;
    case 2: {
      double e = 0.1 * exp(v);
      ds = ds + e * ds + e * s * dv;
      s = s + e * s;
    } /* fallthrough */
    case 3: ds -= 0.5 * dv; s -= 0.5 * v; break;
    case 4: continue;
    default: {
      double q = 1.0 + v * v;
      ds = ds / q - s * 2.0 * v * dv / (q * q);
      s = s / q;
    } break;
    }
    ds += 0.01 * dv * i;
    s += 0.01 * v * i;
  }
  return 2.0 * s * ds;
}

static const int OPS[N] = {0, 2, 1, 4, 7, 3, 0, 2, 5, 1};
static double fv(double *v, void *p) { (void)p; return f(v, OPS, N); }

int main(void) {
  e2e_begin("reverse/switch_loop");
  volatile int vn = N;
  int n = vn;
  int op[N];
  double x[N], dx[N] = {0}, want[N];
  for (int i = 0; i < N; i++) {
    op[i] = OPS[i];
    x[i] = 0.5 * cos(1.1 * i) + 0.1;
  }
  for (int i = 0; i < N; i++) want[i] = tangent(x, op, n, i);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < n; i++) dx[i] += want[i];
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, op, enzyme_const, n);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  check_val("dx of a 'continue' entry", 3, dx[3], 0.0);
  return e2e_finish();
}
