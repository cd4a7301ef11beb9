/* Checks the gradient from the library against the hand-written one and finite differences. */
#include <math.h>
#include <stdio.h>
#include "model.h"

int main(void) {
  double x[4] = {0.3, -1.2, 2.5, 0.0}, g[4];
  energy_gradient(x, g, 4);
  int ok = 1;
  for (int i = 0; i < 4; i++) {
    double exact = cos(x[i]) * x[i] + sin(x[i]) + x[i];
    double h = 1e-6, saved = x[i];
    x[i] = saved + h;
    double up = energy(x, 4);
    x[i] = saved - h;
    double down = energy(x, 4);
    x[i] = saved;
    double fd = (up - down) / (2 * h);
    ok &= fabs(g[i] - exact) < 1e-12 && fabs(g[i] - fd) < 1e-6;
  }
  printf("%s\n", ok ? "PASS" : "FAIL");
  return !ok;
}
