// Forward mode through doubles moved as 64-bit integers (memcpy type punning) and struct
// assignment: tangents must travel with the integer copies.
#include "../e2e.h"
#include <stdint.h>

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef struct { double a; int k; double b; } S;
#define N 4

static double f(const S *in, S *tmp, double *out, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    tmp[i] = in[i];
    uint64_t bits;
    memcpy(&bits, &tmp[i].b, 8);
    memcpy(&out[i], &bits, 8);
    s += tmp[i].a * out[i] + sin(out[i]);
  }
  return s;
}

static double fv(double *v, void *p) {
  (void)p;
  S in[N], tmp[N];
  double out[N];
  for (int i = 0; i < N; i++) { in[i].a = v[2 * i]; in[i].k = i; in[i].b = v[2 * i + 1]; }
  return f(in, tmp, out, N);
}

int main(void) {
  e2e_begin("forward/type_pun");
  volatile int vn = N;
  int n = vn;
  S in[N], din[N], tmp[N], dtmp[N];
  double out[N], dout[N], v[2 * N], dir[2 * N];
  for (int i = 0; i < N; i++) {
    in[i].a = 0.3 + i; in[i].k = i; in[i].b = 1.1 - 0.4 * i;
    din[i].a = 0.5 - 0.1 * i; din[i].k = 0; din[i].b = 0.2 * i - 0.3;
    v[2 * i] = in[i].a; v[2 * i + 1] = in[i].b;
    dir[2 * i] = din[i].a; dir[2 * i + 1] = din[i].b;
  }
  double want = 0;
  for (int i = 0; i < N; i++) want += din[i].a * in[i].b + din[i].b * (in[i].a + cos(in[i].b));
#ifdef ADCC_SELFTEST
  double got = want;
  for (int i = 0; i < N; i++) dout[i] = din[i].b;
#else
  double got = __enzyme_fwddiff((void *)f, enzyme_dup, in, din, enzyme_dup, tmp, dtmp, enzyme_dup, out, dout,
                                enzyme_const, n);
#endif
  check_an("tangent", 0, got, want);
  check_fd("tangent", 0, got, fd_dir(fv, v, dir, 2 * N, 0));
  for (int i = 0; i < N; i++) check_an("dout", i, dout[i], din[i].b);
  return e2e_finish();
}
