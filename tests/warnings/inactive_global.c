/* A global declared inactive used as scratch for active values: the derivative through it is
 * dropped, and adcc warns. */
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);

double cache[3];
void *__enzyme_inactive_global[] = {cache};

__attribute__((noinline)) void remember(double x) {
  cache[0] = x * x;
  cache[1] = cache[0] * x;
}

__attribute__((noinline)) double recall(void) { return cache[0] + cache[1]; }

double poly(double x) {
  remember(x);
  return recall() + x;
}

int main(void) {
  printf("%g\n", __enzyme_autodiff((void *)poly, 2.0));
  return 0;
}
