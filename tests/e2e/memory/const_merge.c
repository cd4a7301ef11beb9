// A pointer that may point into active memory or into a constant table (a select and a phi):
// loads through it when it points into the table carry no derivative, and the reverse pass must
// not accumulate into the table (it once used the table itself as its shadow: wrong tangents in
// forward mode, a write into read-only memory in reverse mode).
#include "both.h"

static const double TABLE[4] = {1.0, 2.0, 3.0, 4.0};
static volatile int pick;

static double by_select(double *x) {
  const double *p = pick ? x : TABLE;
  return p[0] * p[1] + x[0] * x[1];
}
DECLARE_FD(by_select)

static double by_phi(double *x) {
  double s = 0;
  const double *p = TABLE + 1;
  for (int i = 0; i < 4; i++) {
    s += p[0] * x[i % 2];
    p = (i + pick) % 2 ? x : TABLE + i;
  }
  return s;
}
DECLARE_FD(by_phi)

int main(void) {
  e2e_begin("memory/const_merge");
  double x[2] = {3.0, 5.0};
  for (pick = 0; pick < 2; pick++) {
    double g[2] = {x[1] * (pick ? 2 : 1), x[0] * (pick ? 2 : 1)};
    CHECK_BOTH(by_select, x, 2, g);
    /* by_phi: iterations read p[0] of (TABLE+1, then per previous i: x or TABLE+i) */
    double gp[2] = {0, 0};
    const double *tabv[4];
    int from_x[4];
    from_x[0] = 0; tabv[0] = TABLE + 1;
    for (int i = 0; i < 3; i++) { from_x[i + 1] = (i + pick) % 2; tabv[i + 1] = TABLE + i; }
    for (int i = 0; i < 4; i++) {
      if (from_x[i]) { gp[0] += x[i % 2]; gp[i % 2] += x[0]; }
      else gp[i % 2] += tabv[i][0];
    }
    CHECK_BOTH(by_phi, x, 2, gp);
  }
  return e2e_finish();
}
