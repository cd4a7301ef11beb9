// Scratch memory from an allocator reached through function pointers in a struct (a user
// allocator table, #9): with the C library's malloc/free in the table and with the program's
// own wrappers; the table is chosen at run time.
#include "both.h"

typedef struct {
  void *(*alloc)(size_t);
  void (*release)(void *);
} allocator;

static size_t live;
static void *counting_alloc(size_t n) { live++; return malloc(n); }
static void counting_free(void *p) { live--; free(p); }

static allocator tables[2] = {{malloc, free}, {counting_alloc, counting_free}};
static allocator *volatile current = &tables[0];

static volatile int len = 3;

static double with_table(double *x) {
  allocator *al = current;
  int n = len;
  double *t = (double *)al->alloc((size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) t[i] = x[i] * x[i];
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * x[(i + 1) % n];
  al->release(t);
  return s;
}
DECLARE_FD(with_table)

int main(void) {
  e2e_begin("memory/allocator_table");
  double x[3] = {1.0, 2.0, -0.5};
  /* s = x0^2 x1 + x1^2 x2 + x2^2 x0 */
  double g[3] = {2 * x[0] * x[1] + x[2] * x[2], x[0] * x[0] + 2 * x[1] * x[2], x[1] * x[1] + 2 * x[2] * x[0]};
  for (int which = 0; which < 2; which++) {
    current = &tables[which];
    CHECK_BOTH(with_table, x, 3, g);
  }
  check_val("allocations released", 0, (double)live, 0.0);
  return e2e_finish();
}
