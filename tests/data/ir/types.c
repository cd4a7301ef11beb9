#include <string.h>
typedef struct { double x; int n; double *w; } rec_t;
void copy_double(double *dst, const double *src) { memcpy(dst, src, sizeof(double)); }
void copy_rec(rec_t *dst, const rec_t *src) { *dst = *src; }
static double helper(double *p, int i) { return p[i] * 2.0; }
double caller(double *a, int i) { return helper(a, i) + helper(a, i + 1); }
double pick(double *a, double *b, int c) { double *p = c ? a : b; return *p; }
