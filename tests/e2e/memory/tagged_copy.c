// Tagged values copied as raw bytes (#9): a table of {tag, union {double; double *}} entries,
// some holding active doubles, some pointers into the input, moved with memcpy/memmove. Nothing
// types the union's bytes (a double here, a pointer there), so each copied word is told apart at
// run time: pointer words take their shadows along, double words carry adjoints back.
#include "both.h"
#include <string.h>

typedef struct { int tag; union { double d; double *p; } u; } value;

static volatile int len = 4;

static double value_of(const value *v) { return v->tag ? *v->u.p : v->u.d; }

static double tagged_table(double *x) {
  int n = len;
  value src[4], dst[4];
  for (int i = 0; i < n; i++) {
    src[i].tag = i % 2;
    if (i % 2) src[i].u.p = &x[i];
    else src[i].u.d = x[i] * x[(i + 1) % n];
  }
  memcpy(dst, src, n * sizeof(value));
  memmove(&dst[1], &dst[0], (n - 1) * sizeof(value)); /* dst = {s0, s0, s1, s2} */
  double s = 0;
  for (int i = 0; i < n; i++) s += (i + 1) * value_of(&dst[i]) * value_of(&src[i]);
  return s;
}
DECLARE_FD(tagged_table)

int main(void) {
  e2e_begin("memory/tagged_copy");
  double x[4] = {0.5, 2.0, -1.5, 0.75};
  /* v0 = x0 x1, v1 = x1, v2 = x2 x3, v3 = x3; dst = {v0, v0, v1, v2}, src = {v0, v1, v2, v3}:
     s = v0^2 + 2 v0 v1 + 3 v1 v2 + 4 v2 v3 */
  double v0 = x[0] * x[1], v1 = x[1], v2 = x[2] * x[3], v3 = x[3];
  double d0 = 2 * v0 + 2 * v1, d1 = 2 * v0 + 3 * v2, d2 = 3 * v1 + 4 * v3, d3 = 4 * v2;
  double g[4] = {d0 * x[1], d0 * x[0] + d1, d2 * x[3], d2 * x[2] + d3};
  CHECK_BOTH(tagged_table, x, 4, g);
  return e2e_finish();
}
