/* demo.c - the smallest adcc example (`make demo`).
 *
 *   f(x, y) = sum_{k=1..5} sin(k x) exp(-k y / 5) / k  +  x^2 log(1 + y^2)
 *
 * adcc synthesizes df/dx and df/dy from the source of f: the call to
 * __enzyme_autodiff below becomes a call to the generated gradient.
 * Build: adcc -O2 samples/demo.c -o demo -lm && ./demo
 */
#include "fd_check.h"

typedef struct { double dx, dy; } grad2;
extern grad2 __enzyme_autodiff(void *, ...);
int enzyme_out;

static double f(double x, double y) {
  double s = 0.0;
  for (int k = 1; k <= 5; k++) s += sin(k * x) * exp(-k * y / 5.0) / k;
  return s + x * x * log(1.0 + y * y);
}

static double f_v(double *v, void *ctx) { (void)ctx; return f(v[0], v[1]); }

int main(void) {
  double x = 0.7, y = 1.3;
#ifdef ADCC_SELFTEST /* hand-written derivative, to validate this program with plain clang */
  grad2 g = {2.0 * x * log(1.0 + y * y), 0.0};
  for (int k = 1; k <= 5; k++) {
    g.dx += cos(k * x) * exp(-k * y / 5.0);
    g.dy -= sin(k * x) * exp(-k * y / 5.0) / 5.0;
  }
  g.dy += x * x * 2.0 * y / (1.0 + y * y);
#else
  grad2 g = __enzyme_autodiff((void *)f, enzyme_out, x, enzyme_out, y);
#endif
  double v[2] = {x, y}, fd[2];
  fd_gradient(f_v, v, 2, NULL, fd);
  printf("f(%g, %g)      = %.12f\n", x, y, f(x, y));
  printf("gradient (adcc) = (%.12f, %.12f)\n", g.dx, g.dy);
  printf("gradient (FD)   = (%.12f, %.12f)\n", fd[0], fd[1]);
  fdc_check("df/dx", 0, g.dx, fd[0], FDC_RTOL);
  fdc_check("df/dy", 1, g.dy, fd[1], FDC_RTOL);
  return fdc_report("demo");
}
