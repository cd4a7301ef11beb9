/* Kernel of samples/bridge_fit/fit.py: a damped, driven oscillator x'' + c x' + k x = a cos(2 t),
 * x(0) = 1, x'(0) = 0, integrated by semi-implicit Euler (50 substeps between samples) and
 * sampled at `times` (increasing). params = (k, c, a). Bridge convention: outputs, inputs,
 * then the dimension t. */
#include <math.h>
#include <stdint.h>

void oscillator(double *x, const double *params, const double *times, int64_t t) {
  double k = params[0], c = params[1], a = params[2];
  double pos = 1.0, vel = 0.0, now = 0.0;
  for (int64_t i = 0; i < t; i++) {
    double h = (times[i] - now) / 50.0;
    for (int s = 0; s < 50; s++) {
      vel += h * (a * cos(2.0 * now) - c * vel - k * pos);
      pos += h * vel;
      now += h;
    }
    x[i] = pos;
  }
}
