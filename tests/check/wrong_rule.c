/* A deliberately wrong custom rule in each mode: the run-time check must report both calls. */
#include <math.h>
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_out;

__attribute__((noinline)) double square(double x) { return x * x; }
double square_augmented(double x) { return x * x; }
double square_reverse(double x, double adjoint) { return 3 * x * adjoint; } /* wrong: 2x */
double square_forward(double x, double dx) { return 2 * x * dx + 0.5 * dx; } /* wrong: 2x dx */
void *__enzyme_register_gradient_square[3] = {(void *)square, (void *)square_augmented, (void *)square_reverse};
void *__enzyme_register_derivative_square[2] = {(void *)square, (void *)square_forward};

double model(double *x, double a) { return square(x[0]) * a + sin(x[1]); }

int main(void) {
  double x[2] = {1.5, 0.25}, dx[2] = {0, 0}, tx[2] = {1, 0};
  double da = __enzyme_autodiff((void *)model, enzyme_dup, x, dx, enzyme_out, 2.0);
  double t = __enzyme_fwddiff((void *)model, enzyme_dup, x, tx, enzyme_dup, 2.0, 0.0);
  printf("reverse %g %g %g\nforward %g\n", da, dx[0], dx[1], t);
  return 0;
}
