/* adcc run-time derivative check (-fadcc-check-derivatives): every synthesized derivative call
 * is compared with central finite differences of its primal, evaluated in forked copies of the
 * process so that nothing the primal does reaches the program. The AD code generator
 * (adcc/ad/check.py) calls exactly these symbols; ADCC_CHECK_* environment variables steer
 * them at run time (README.md, "Checking derivatives at run time"). */
#ifndef ADCC_CHECK_H
#define ADCC_CHECK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ADCC_CHECK_FORWARD = 0, ADCC_CHECK_REVERSE = 1 };
enum { ADCC_CHECK_NONE = 0, ADCC_CHECK_FLOAT = 1, ADCC_CHECK_DOUBLE = 2 }; /* precision of a value */

/* One __enzyme_* call site: a mutable global the compiler emits (layout fixed: adcc/ad/check.py). */
typedef struct adcc_check_site {
  const char *where;     /* "file:line" of the call, or the source file */
  const char *function;  /* the differentiated function */
  const char *unchecked; /* NULL, or why the compiler cannot check calls made here */
  int32_t mode;          /* ADCC_CHECK_FORWARD or ADCC_CHECK_REVERSE */
  int32_t width;         /* forward mode: tangents per value */
  int64_t calls, checked, failed, inconclusive, skipped, flags; /* updated atomically */
  struct adcc_check_site *next; /* registry of the sites seen, for the summary at exit */
} adcc_check_site;

typedef struct adcc_check adcc_check; /* one checked call */
typedef double (*adcc_check_eval)(adcc_check *check, void *frame); /* runs the primal */

/* NULL when this call is not checked (switched off, sampled out, or not checkable);
 * ret_kind: precision of the return value when it carries a derivative, else ADCC_CHECK_NONE. */
adcc_check *adcc_check_begin(adcc_check_site *site, int32_t nscalars, int32_t nregions, int32_t ret_kind);
/* Active floating-point arguments in order: forward mode passes `width` tangents, reverse NULL. */
void adcc_check_scalar(adcc_check *check, double value, int32_t kind, const double *tangents);
/* Duplicated memory in order: `layout` = {period, count, offset0, kind0, ...} describes its
 * floating-point slots (period 0: the listed slots once; else repeated every period bytes over
 * nbytes); nbytes < 0: unknown; `shadows` holds `width` shadow pointers. */
void adcc_check_region(adcc_check *check, void *primal, int64_t nbytes, const int32_t *layout,
                       void *const *shadows);
/* Before the derivative call: picks directions and starts the finite differences. */
void adcc_check_start(adcc_check *check, adcc_check_eval eval, void *frame);
/* After it: reverse mode, adjoint of scalar `index`; forward mode, tangent of the result in lane `index`. */
void adcc_check_result(adcc_check *check, int32_t index, double value);
/* Compares, reports a failure on stderr, and releases `check`. */
void adcc_check_finish(adcc_check *check);
/* Inside `eval`: the (perturbed) value of active scalar `index`. */
double adcc_check_point(adcc_check *check, int32_t index);

#ifdef __cplusplus
}
#endif

#endif /* ADCC_CHECK_H */
