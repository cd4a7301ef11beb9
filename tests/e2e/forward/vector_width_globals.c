// Vector forward mode (enzyme_width 3) through globals the function writes and reads back: each
// lane has its own implicit shadow of a global. All lanes shared one before, so the last lane's
// tangent overwrote the others' (f below gave 18 18 for 9 18 at width 2). A scalar global, an
// array written in a loop, and a global pointer to another global (its lane shadows point to that
// global's shadow in the same lane). Against the analytic tangents and finite differences.
#include "../e2e.h"

typedef struct { double d[3]; } Tan3;
extern Tan3 __enzyme_fwddiff(void *, ...);
extern int enzyme_width, enzyme_dup;

double g;
double arr[4];
double *target = arr;

__attribute__((noinline)) static void store_square(double x) { g = x * x; }
__attribute__((noinline)) static void fill(double x) {
  for (int k = 0; k < 4; k++) target[k] = (k + 1) * x;
}

/* f = 3 x^2 + sum_k (k+1) x^2 = 13 x^2 */
static double f(double x) {
  store_square(x);
  fill(x);
  double s = 0;
  for (int k = 0; k < 4; k++) s += arr[k] * x;
  return g * 3.0 + s;
}

int main(void) {
  e2e_begin("forward/vector_width_globals");
  double dirs[3] = {1.0, 2.0, -0.5};
  for (int i = 0; i < 3; i++) {
    double x = 0.5 + 0.75 * i;
    double want = 26 * x; /* d/dx 13 x^2 */
#ifdef ADCC_SELFTEST
    Tan3 t = {{want * dirs[0], want * dirs[1], want * dirs[2]}};
#else
    Tan3 t = __enzyme_fwddiff((void *)f, enzyme_width, 3, enzyme_dup, x, dirs[0], dirs[1], dirs[2]);
#endif
    for (int w = 0; w < 3; w++) check_an("lane", 3 * i + w, t.d[w], want * dirs[w]);
    check_fd("lane 0", i, t.d[0], fd1(f, x));
  }
  return e2e_finish();
}
