// Floats copied where the copy cannot see their type (#9): memcpy/memmove through `void *` in
// noinline helpers (one and two calls deep), odd lengths (a float left over after the 8-byte
// words), a copy starting 4 bytes into the array, an overlapping move, a qsort of float pairs,
// and a struct of a float beside an int copied whole. The reverse of such a copy once moved
// each 8-byte word as a double or a pointer, so a pair of float adjoints was added as one double
// (or skipped as a pointer); the helpers' derivatives are now specialized on the types their
// callers know. (A float beside an int copied through `void *` is refused: test_ad_errors.py.)
#include "both.h"

static volatile int len = 5;

static __attribute__((noinline)) void copy_bytes(void *d, const void *s, size_t n) { memcpy(d, s, n); }
static __attribute__((noinline)) void inner(void *d, const void *s, size_t n) { memcpy(d, s, n); }
static __attribute__((noinline)) void outer(void *d, const void *s, size_t n) { inner(d, s, n); }
static __attribute__((noinline)) void move_bytes(void *d, const void *s, size_t n) { memmove(d, s, n); }

/* five floats: two words and a float left over */
static double odd_length(double *x) {
  int n = len;
  float a[5], b[5];
  for (int i = 0; i < n; i++) a[i] = (float)x[i] * (float)(i + 1);
  copy_bytes(b, a, (size_t)n * sizeof(float));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)b[i] * (double)b[i] * (i + 1);
  return s;
}
DECLARE_FD(odd_length)

/* the source is read again after the copy: the copy's reverse adds into nonzero adjoints */
static double reread(double *x) {
  int n = len - 1;
  float a[4], b[4];
  for (int i = 0; i < n; i++) a[i] = (float)x[i] * (float)(i + 1);
  copy_bytes(b, a, (size_t)n * sizeof(float));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
  return s;
}
DECLARE_FD(reread)

/* a copy 4 bytes into the arrays: every word straddles two floats */
static double offset(double *x) {
  int n = len - 1;
  float a[5], b[5];
  a[0] = 0;
  b[0] = 0;
  for (int i = 0; i < n; i++) a[i + 1] = (float)x[i] * (float)(i + 1);
  copy_bytes(&b[1], &a[1], (size_t)n * sizeof(float));
  double s = b[0];
  for (int i = 0; i < n; i++) s += (double)a[i + 1] * (double)b[i + 1];
  return s;
}
DECLARE_FD(offset)

/* through two helpers */
static double nested(double *x) {
  int n = len;
  float a[5], b[5];
  for (int i = 0; i < n; i++) a[i] = (float)x[i] * (float)(i + 1);
  outer(b, a, (size_t)n * sizeof(float));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
  return s;
}
DECLARE_FD(nested)

/* an overlapping move by one float: a = {y0, y0, y1, y2, y3} */
static double moved(double *x) {
  int n = len;
  float a[5];
  for (int i = 0; i < n; i++) a[i] = (float)x[i] * (float)(i + 1);
  move_bytes(&a[1], &a[0], (size_t)(n - 1) * sizeof(float));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * (double)a[i] * (i + 1);
  return s;
}
DECLARE_FD(moved)

typedef struct { float lo, hi; } pairf;
static int by_lo(const void *p, const void *q) {
  float a = ((const pairf *)p)->lo, b = ((const pairf *)q)->lo;
  return (a > b) - (a < b);
}

static double sorted_pairs(double *x) {
  int n = len;
  pairf t[5];
  for (int i = 0; i < n; i++) { t[i].lo = (float)x[i]; t[i].hi = (float)x[i] * (float)x[i]; }
  qsort(t, (size_t)n, sizeof t[0], by_lo);
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)t[i].hi * (i + 1) + (double)t[i].lo;
  return s;
}
DECLARE_FD(sorted_pairs)

/* a float beside an int and a double: a copy of constant size and a struct assignment */
typedef struct { float f; int k; double d; float g; } rec;
static double struct_fields(double *x) {
  rec a[3], b[3];
  for (int i = 0; i < 3; i++) { a[i].f = (float)x[i]; a[i].k = i; a[i].d = x[i] * 2; a[i].g = (float)x[i] * (float)x[i]; }
  memcpy(b, a, sizeof a);
  rec c = b[len - 3];
  double s = c.f * c.d + c.g;
  for (int i = 0; i < 3; i++) s += (double)a[i].f * (double)b[i].g + b[i].d * (b[i].k + 1);
  return s;
}
DECLARE_FD(struct_fields)

int main(void) {
  e2e_begin("memory/untyped_float_copy");
  double x[5] = {0.5, -1.25, 2.0, 0.75, 1.5};
  double go[5], gr[5], gm[5], gs[5];
  /* odd_length: s = sum (i+1)^3 x_i^2 */
  for (int i = 0; i < 5; i++) go[i] = 2.0 * (i + 1) * (i + 1) * (i + 1) * x[i];
  CHECK_BOTH_F32(odd_length, x, 5, go);
  /* reread, offset: s = sum_{i<4} (i+1)^2 x_i^2; nested: the same over five */
  for (int i = 0; i < 5; i++) gr[i] = i < 4 ? 2.0 * (i + 1) * (i + 1) * x[i] : 0;
  CHECK_BOTH_F32(reread, x, 5, gr);
  CHECK_BOTH_F32(offset, x, 5, gr);
  gr[4] = 2.0 * 25 * x[4];
  CHECK_BOTH_F32(nested, x, 5, gr);
  /* moved: y_i = (i+1) x_i; s = y0^2 + 2 y0^2 + 3 y1^2 + 4 y2^2 + 5 y3^2 */
  gm[0] = 2 * 3 * x[0]; gm[1] = 2 * 3 * 4 * x[1]; gm[2] = 2 * 4 * 9 * x[2]; gm[3] = 2 * 5 * 16 * x[3]; gm[4] = 0;
  CHECK_BOTH_F32(moved, x, 5, gm);
  /* sorted_pairs: x1 < x0 < x3 < x4 < x2 take the weights 1..5 */
  int rank[5] = {2, 1, 5, 3, 4};
  for (int i = 0; i < 5; i++) gs[i] = 2 * x[i] * rank[i] + 1;
  CHECK_BOTH_F32(sorted_pairs, x, 5, gs);
  /* struct_fields: c = rec of x2: s = 3 x2^2 + sum_{i<3} x_i^3 + 2 (i+1) x_i */
  double gf[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 3; i++) gf[i] = 3 * x[i] * x[i] + 2 * (i + 1) + (i == 2 ? 6 * x[2] : 0);
  CHECK_BOTH_F32(struct_fields, x, 5, gf);
  return e2e_finish();
}
