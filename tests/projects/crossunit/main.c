/* Cross-unit reverse mode: the gradient of f (defined in model.c) is requested here. */
#include <math.h>
#include <stdio.h>
extern double f(double, double);
typedef struct { double dx, dy; } G;
extern G __enzyme_autodiff(void *, ...);
int main(void) {
  G g = __enzyme_autodiff((void *)f, 0.5, 2.0);
  double wx = cos(0.5) * 4.0, wy = sin(0.5) * 4.0;
  int ok = fabs(g.dx - wx) < 1e-12 && fabs(g.dy - wy) < 1e-12;
  printf("%s %.15g %.15g\n", ok ? "PASS" : "FAIL", g.dx, g.dy);
  return ok ? 0 : 1;
}
