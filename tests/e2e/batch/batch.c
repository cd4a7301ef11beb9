// __enzyme_batch: f on N argument sets at once. Shared arguments (enzyme_scalar), one value per
// lane (enzyme_vector; the default with enzyme_width N > 1), lanes in one buffer at a byte stride
// (enzyme_buffer), results as a struct, an array member and through memory (a struct return of f).
#include "../e2e.h"

extern int enzyme_width, enzyme_scalar, enzyme_vector, enzyme_buffer;

typedef struct { double v[4]; } Four;
typedef struct { double a, b, c; } Three;
Four __enzyme_batch(void *, ...);
Three __enzyme_batch3(void *, ...);
typedef struct { Three lane[2]; } TwoThrees;
TwoThrees __enzyme_batch_sret(void *, ...);
void __enzyme_batch_void(void *, ...);

static double poly(double x, double c, int p) {
  double s = c;
  for (int k = 0; k < p; k++) s = s * x + 1.0;
  return s;
}

// reads a row of a matrix and writes its scaled norm (pointers per lane)
static void row_norm(const double *row, double scale, double *out, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += row[i] * row[i];
  *out = scale * sqrt(s);
}

static Three triple(double x) { return (Three){x, x * x, x * x * x}; }

int main(void) {
  e2e_begin("batch/batch");
  double xs[4] = {0.5, -1.0, 2.0, 0.25};
#ifdef ADCC_SELFTEST
  Four r = {{poly(xs[0], 2.0, 3), poly(xs[1], 2.0, 3), poly(xs[2], 2.0, 3), poly(xs[3], 2.0, 3)}};
#else
  Four r = __enzyme_batch((void *)poly, enzyme_width, 4, enzyme_vector, xs[0], xs[1], xs[2], xs[3],
                          enzyme_scalar, 2.0, enzyme_scalar, 3);
#endif
  for (int k = 0; k < 4; k++) check_val("poly", k, r.v[k], poly(xs[k], 2.0, 3));

  // default activity with enzyme_width 3: every argument per lane
  double cs[3] = {1.0, 0.0, -2.0};
#ifdef ADCC_SELFTEST
  Three q = {poly(1.5, cs[0], 1), poly(-0.5, cs[1], 2), poly(3.0, cs[2], 3)};
#else
  Three q = __enzyme_batch3((void *)poly, enzyme_width, 3, 1.5, -0.5, 3.0, cs[0], cs[1], cs[2], 1, 2, 3);
#endif
  check_val("default vector", 0, q.a, poly(1.5, cs[0], 1));
  check_val("default vector", 1, q.b, poly(-0.5, cs[1], 2));
  check_val("default vector", 2, q.c, poly(3.0, cs[2], 3));

  // rows of a 3x5 matrix through one buffer and a stride, outputs through a buffer too
  double m[3][5], norms[3] = {0};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 5; j++) m[i][j] = 0.1 * (i + 1) * (j - 2);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < 3; i++) row_norm(m[i], 0.5, &norms[i], 5);
#else
  __enzyme_batch_void((void *)row_norm, enzyme_width, 3, enzyme_buffer, (long)sizeof m[0], &m[0][0],
                      enzyme_scalar, 0.5, enzyme_buffer, (long)sizeof(double), norms, enzyme_scalar, 5);
#endif
  for (int i = 0; i < 3; i++) {
    double want = 0.0;
    row_norm(m[i], 0.5, &want, 5);
    check_val("row norms", i, norms[i], want);
  }

  // f returns a struct through memory: lane k's result follows lane k-1's
#ifdef ADCC_SELFTEST
  TwoThrees t = {{triple(1.5), triple(-2.0)}};
#else
  TwoThrees t = __enzyme_batch_sret((void *)triple, enzyme_width, 2, 1.5, -2.0);
#endif
  check_val("struct lanes", 0, t.lane[0].c, 1.5 * 1.5 * 1.5);
  check_val("struct lanes", 1, t.lane[1].b, 4.0);
  check_val("struct lanes", 2, t.lane[1].c, -8.0);
  return e2e_finish();
}
