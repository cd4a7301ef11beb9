/* The check must not disturb the program: the primal prints, counts its calls in a global,
 * writes a log passed as enzyme_const, a scratch buffer and an output buffer, and reverse
 * mode accumulates (+=) into a shadow that already holds values. */
#include <math.h>
#include <stdio.h>

extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const;

int calls;
double history[4];

__attribute__((noinline)) void step(const double *x, double *scratch, double *out, double *log) {
  calls++;
  printf("step call %d\n", calls);
  log[calls % 4] = calls;
  for (int i = 0; i < 3; i++) scratch[i] = x[i] * x[(i + 1) % 3];
  for (int i = 0; i < 3; i++) out[i] = exp(scratch[i]) + x[i];
  history[calls % 4] = out[0];
}

int main(void) {
  double x[3] = {0.5, -0.25, 1.0}, dx[3] = {1, 1, 1}, scratch[3] = {7, 7, 7}, dscratch[3] = {0};
  double out[3] = {0}, dout[3] = {1, 2, 3}, log[4] = {0};
  __enzyme_autodiff((void *)step, enzyme_dup, x, dx, enzyme_dup, scratch, dscratch, enzyme_dup, out, dout,
                    enzyme_const, log);
  printf("after reverse: calls %d dx %.17g %.17g %.17g dout %g %g %g out %.17g\n", calls, dx[0], dx[1], dx[2],
         dout[0], dout[1], dout[2], out[2]);
  double tx[3] = {1, 0, -1}, tout[3] = {0};
  __enzyme_fwddiff((void *)step, enzyme_dup, x, tx, enzyme_dup, scratch, dscratch, enzyme_dup, out, tout,
                   enzyme_const, log);
  printf("after forward: calls %d tout %.17g %.17g %.17g scratch %.17g history %.17g log %g %g\n", calls, tout[0],
         tout[1], tout[2], scratch[1], history[2], log[1], log[2]);
  return 0;
}
