/* Custom gradients of lib.c's functions, registered in a unit of their own (no Enzyme call
   here: the link step reads them from this object's bitcode). */
#include <stddef.h>
extern void ext_square(const double *x, double *y);
extern double ext_cubic(double x);
int rule_calls;
static void *sq_aug(const double *x, const double *dx, double *y, double *dy) {
  (void)dx, (void)dy;
  *y = *x * *x;
  return NULL;
}
static void sq_rev(const double *x, double *dx, const double *y, double *dy, void *t) {
  (void)y, (void)t;
  rule_calls++;
  *dx += 2 * *x * *dy;
  *dy = 0;
}
void *__enzyme_register_gradient_square[3] = {(void *)ext_square, (void *)sq_aug, (void *)sq_rev};
static double cu_aug(double x) { return x * x * x; }
static double cu_rev(double x, double d) {
  rule_calls++;
  return 3 * x * x * d;
}
void *__enzyme_register_gradient_cubic[3] = {(void *)ext_cubic, (void *)cu_aug, (void *)cu_rev};
