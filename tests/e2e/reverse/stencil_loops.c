// Reverse mode through stencil loops (w[i] reads u[i-2..i+1]): their reverse adds into four
// neighbouring adjoints per iteration, which adcc defers into registers (adcc.ad.deferral) after
// testing that no shadow the loop reads meets a pending element. Separate buffers (the deferred
// loop), w inside u's buffer at distances 1..3 (the test must keep the plain additions), and an
// in-place sweep (not deferred); separate shadows start non-zero (the gradient accumulates).
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 40
#define K0 0.2
#define K1 -0.35
#define K2 0.3
#define K3 0.25

static double f(double *u, double *w, int n) {
  for (int i = 2; i < n - 1; i++) w[i] = K0 * u[i - 2] + K1 * u[i - 1] + K2 * sin(u[i]) + K3 * u[i + 1];
  double s = 0.0;
  for (int i = 2; i < n - 1; i++) s += (1.0 + 0.1 * i) * w[i];
  return s;
}

/* separate buffers: ds/du[j] = sum_i g_i dw_i/du_j, g_i = 1 + 0.1 i */
static void df(const double *u, int n, double *gu) {
  for (int i = 2; i < n - 1; i++) {
    double g = 1.0 + 0.1 * i;
    gu[i - 2] += g * K0;
    gu[i - 1] += g * K1;
    gu[i] += g * K2 * cos(u[i]);
    gu[i + 1] += g * K3;
  }
}

/* in place (a Gauss-Seidel sweep): the store writes what the loads read, nothing is deferred */
static double sweep(double *u, int n) {
  for (int i = 1; i < n - 1; i++) u[i] = K2 * sin(u[i - 1]) + K3 * u[i + 1] + K1 * u[i];
  double s = 0.0;
  for (int i = 0; i < n; i++) s += (1.0 + 0.1 * i) * u[i];
  return s;
}

static double sweep_v(double *v, void *p) {
  double buf[N];
  int n = *(int *)p;
  for (int i = 0; i < n; i++) buf[i] = v[i];
  return sweep(buf, n);
}

typedef struct { int n, shift; } ctx_t;

/* the oracle: u = v copied into a buffer whose w starts `shift` doubles later (2N: apart) */
static double fv(double *v, void *p) {
  ctx_t *c = p;
  double buf[3 * N];
  for (int i = 0; i < 3 * N; i++) buf[i] = 0.0;
  for (int i = 0; i < c->n; i++) buf[i] = v[i];
  return f(buf, buf + c->shift, c->n);
}

int main(void) {
  e2e_begin("reverse/stencil_loops");
  volatile int vn = N;
  int n = vn;
  static const int shifts[] = {2 * N, 1, 2, 3};
  for (int k = 0; k < 4; k++) {
    ctx_t c = {n, shifts[k]};
    double v[N], buf[3 * N], dbuf[3 * N], want[N];
    for (int i = 0; i < N; i++) v[i] = 0.6 * sin(1.3 * i + 0.2);
    for (int i = 0; i < 3 * N; i++) buf[i] = 0.0, dbuf[i] = 0.0;
    double seed = c.shift == 2 * N ? 0.5 : 0.0; /* overlapping: the whole buffer's gradient starts at 0 */
    for (int i = 0; i < N; i++) buf[i] = v[i], dbuf[i] = want[i] = seed * i;
    df(v, n, want);
#ifdef ADCC_SELFTEST
    if (c.shift == 2 * N)
      df(v, n, dbuf);
    else
      for (int i = 0; i < N; i++) dbuf[i] += fdv(fv, v, i, &c);
#else
    __enzyme_autodiff((void *)f, enzyme_dup, buf, dbuf, enzyme_dup, buf + c.shift, dbuf + c.shift,
                      enzyme_const, n);
#endif
    for (int i = 0; i < N; i++) {
      if (c.shift == 2 * N) check_an("du", i, dbuf[i], want[i]);
      check_fd(c.shift == 2 * N ? "du" : "du (w overlaps u)", i, dbuf[i] - seed * i, fdv(fv, v, i, &c));
    }
  }
  double v[N], buf[N], dbuf[N];
  for (int i = 0; i < N; i++) v[i] = buf[i] = 0.6 * sin(1.3 * i + 0.2), dbuf[i] = 0.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dbuf[i] = fdv(sweep_v, v, i, &n);
#else
  __enzyme_autodiff((void *)sweep, enzyme_dup, buf, dbuf, enzyme_const, n);
#endif
  for (int i = 0; i < N; i++) check_fd("du (in place)", i, dbuf[i], fdv(sweep_v, v, i, &n));
  return e2e_finish();
}
