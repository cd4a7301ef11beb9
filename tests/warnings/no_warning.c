/* enzyme_const memory that is written and read without dropping a derivative: no warning. */
#include <math.h>
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const, enzyme_out;

/* inactive values (counts, indices, constants) stored and read back */
double counts(double x, double *tally, int *perm) {
  tally[0] += 1;
  perm[0] = (int)tally[0];
  return x * tally[0] + perm[0];
}

/* active values logged for printing, never read back into the result */
double logged(double x, double *log) {
  double y = sin(x);
  log[0] = y;
  log[1] = y * y;
  return y * x;
}

/* one time step: the old state is read, the new one written after it and not read again */
double step(double k, double *state) {
  double loss = (state[0] - 1) * (state[0] - 1) * k;
  state[0] = state[0] * exp(-k);
  return loss;
}

/* constant input data, only read */
double fit(double a, const double *data, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (data[i] - a) * (data[i] - a);
  return s;
}

int main(void) {
  double tally[1] = {0}, log[2], state[1] = {3}, data[3] = {1, 2, 4};
  int perm[1];
  double a = __enzyme_autodiff((void *)counts, enzyme_out, 1.5, enzyme_const, tally, enzyme_const, perm);
  double b = __enzyme_autodiff((void *)logged, enzyme_out, 0.5, enzyme_const, log);
  double c = __enzyme_autodiff((void *)step, enzyme_out, 0.2, enzyme_const, state);
  double d = __enzyme_autodiff((void *)fit, enzyme_out, 1.0, enzyme_const, data, enzyme_const, 3);
  printf("%g %g %g %g\n", a, b, c, d);
  return 0;
}
