// Inactive functions and globals, declared every way Enzyme accepts: __enzyme_inactivefn,
// __enzyme_inactivenoblockfn, __enzyme_inactive_global, and the annotate("enzyme_...") strings
// Enzyme's clang plugin lowers its attributes to (enzyme_inactive on a function and on a global,
// enzyme_inactivefn, enzyme_inactivenoblockfn). Their values are used as constants: the reference
// is the derivative with them held fixed (finite differences would see through them).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

double noisy(double x) { return 3.0 * x; }
double quiet(double x) { return x * x; }
void *__enzyme_inactivefn[1] = {(void *)noisy};
void *__enzyme_inactivenoblockfn[1] = {(void *)quiet};

__attribute__((annotate("enzyme_inactive"))) double hushed(double x) { return exp(x); }
__attribute__((annotate("enzyme_inactivefn"))) double hushed2(double x) { return sin(x); }
__attribute__((annotate("enzyme_inactivenoblockfn"))) double hushed3(double x) { return x * x * x; }

double counter;                                      /* declared inactive below */
void *__enzyme_inactive_global[1] = {(void *)&counter};
__attribute__((annotate("enzyme_inactive"))) double cache; /* an inactive global, annotated */

__attribute__((noinline)) void bump(double x) { counter += x; }
__attribute__((noinline)) void remember(double x) { cache = x * x; }

static double f(double x) {
  bump(x);
  remember(x);
  return noisy(x) + quiet(x) + hushed(x) + hushed2(x) + hushed3(x) + x * counter + cache * x;
}

/* with the inactive functions and globals held fixed: d/dx = counter + cache */
int main(void) {
  e2e_begin("declarations/inactive");
  double x = 0.8;
  counter = 0.25;
  double want_counter = counter + x, want_cache = x * x;
#ifdef ADCC_SELFTEST
  bump(x);
  remember(x);
  double d = counter + cache;
#else
  double d = __enzyme_autodiff((void *)f, x);
#endif
  check_val("counter after the call (primal)", 0, counter, want_counter);
  check_val("cache after the call (primal)", 0, cache, want_cache);
  check_an("reverse df/dx", 0, d, want_counter + want_cache);
  counter = 0.25;
#ifdef ADCC_SELFTEST
  bump(x);
  remember(x);
  double t = 2.0 * (counter + cache);
#else
  double t = __enzyme_fwddiff((void *)f, x, 2.0);
#endif
  check_an("forward df/dx * 2", 0, t, 2.0 * (want_counter + want_cache));
  return e2e_finish();
}
