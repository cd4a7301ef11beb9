// Shadow contexts: ctx = __enzyme_context(1) holds a shadow of every global,
// __enzyme_shadow(ctx, &g, 0) is g's (or a part of g's), __enzyme_zero_shadows(ctx) zeroes them
// all, and `enzyme_context, ctx` at a call makes the derivative use them.
//   reverse: the adjoints of the globals land in the context's shadows, accumulate over calls,
//            and restart from zero after __enzyme_zero_shadows (also the shadows never queried);
//   forward: the tangents the program seeds in the shadows are the globals' tangents;
//   a struct of a pointer to a global array and its size: its shadow points to the array's
//            shadow in the same context and keeps the size; a part of a global: the same offset;
//   nested: forward mode over a reverse-mode derivative, each with its own context;
//   a context of width 2: vector forward mode (the width comes from the context), one shadow
//            of each global per lane, pointers in lane k pointing to lane k's shadows;
//   a global pointing to heap memory allocated outside derivatives: a zeroed shadow of the same
//            size, which __enzyme_zero_shadows zeroes too.
// Against the analytic derivatives (and finite differences for the reverse gradient).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_context;
typedef struct { double d0, d1; } Tan2;
#ifndef ADCC_SELFTEST
extern Tan2 __enzyme_fwddiff2(void *, ...) __asm__("__enzyme_fwddiff");
extern void *__enzyme_context(int);
extern void *__enzyme_shadow(void *, void *, int);
extern void __enzyme_zero_shadows(void *);
#endif

double scale = 2.0;
double weights[2] = {3.0, 5.0};
double hidden = 7.0;
double data[3] = {1.0, 2.0, 3.0};
struct {
  double *base;
  long size;
} desc = {data, 3};

/* f = scale (w0 + w1) x^2 + hidden x */
static double f(double x) { return scale * (weights[0] + weights[1]) * x * x + hidden * x; }

/* s = x * sum(desc.base[i]) */
__attribute__((noinline)) static double sum(double x) {
  double s = 0;
  for (long i = 0; i < desc.size; i++) s += desc.base[i] * x;
  return s;
}

/* inner: d/dx (g3 x^3) = 3 g3 x^2, its own context seeded at zero */
double g3 = 2.0;
static double cube(double x) { return g3 * x * x * x; }
#ifdef ADCC_SELFTEST
static double dcube(double x) { return 3 * g3 * x * x; }
/* forward over dcube: the tangents of x and g3 */
static double d_dcube(double x, double dx, double dg) { return 6 * g3 * x * dx + 3 * x * x * dg; }
#else
static double dcube(double x) {
  void *inner = __enzyme_context(1);
  *(double *)__enzyme_shadow(inner, &g3, 0) = 0.0;
  return __enzyme_autodiff((void *)cube, enzyme_context, inner, x);
}
#endif

/* a global pointing to heap memory the program allocates outside derivatives */
double *heap;
__attribute__((noinline)) static void fill_heap(void) {
  heap = (double *)malloc(4 * sizeof(double));
  for (int k = 0; k < 4; k++) heap[k] = k + 1;
}
/* h = x sum(heap[k]^2): dh/dx = 30, dh/dheap[k] = 2 heap[k] x */
static double hsum(double x) {
  double s = 0;
  for (int k = 0; k < 4; k++) s += heap[k] * heap[k] * x;
  return s;
}

static double f_of(double *v, void *ctx) {
  (void)ctx;
  double keep = scale;
  scale = v[1];
  double r = f(v[0]);
  scale = keep;
  return r;
}

int main(void) {
  e2e_begin("api/contexts");
  double x0 = 1.5;
  fill_heap();
#ifdef ADCC_SELFTEST
  static double dscale_s, dw_s[2], dhidden_s, ddata_s[3], *dbase_s = ddata_s, dg3_s;
  static long dsize_s = 3;
  double *dscale = &dscale_s, *dw = dw_s, *dhidden = &dhidden_s, *ddata = ddata_s, **dbase = &dbase_s;
  double *dw1 = &dw_s[1], *dg3 = &dg3_s;
  long *dsize = &dsize_s;
#define ZERO() (dscale_s = dw_s[0] = dw_s[1] = dhidden_s = 0)
#define GRAD(x) (dscale_s += (weights[0] + weights[1]) * (x) * (x), dw_s[0] += scale * (x) * (x), \
                 dw_s[1] += scale * (x) * (x), dhidden_s += (x), \
                 2 * scale * (weights[0] + weights[1]) * (x) + hidden)
#define TANGENT(x, dx) ((x) * (ddata_s[0] + ddata_s[1] + ddata_s[2]) + (dx) * (data[0] + data[1] + data[2]))
#define NESTED(x, dx) d_dcube(x, dx, dg3_s)
  static double dheap_s[4], *dheap_p = dheap_s;
  double **dheap = &dheap_p;
#define HZERO() memset(dheap_s, 0, sizeof dheap_s)
#define HGRAD(x) (dheap_s[0] += 2 * heap[0] * (x), dheap_s[1] += 2 * heap[1] * (x), \
                  dheap_s[2] += 2 * heap[2] * (x), dheap_s[3] += 2 * heap[3] * (x), 30.0)
#else
  void *ctx = __enzyme_context(1);
  double *dscale = (double *)__enzyme_shadow(ctx, &scale, 0);
  double *dw = (double *)__enzyme_shadow(ctx, &weights, 0);
  double *dw1 = (double *)__enzyme_shadow(ctx, &weights[1], 0);
  double *dhidden = (double *)__enzyme_shadow(ctx, &hidden, 0);
  double *ddata = (double *)__enzyme_shadow(ctx, &data, 0);
  double **dbase = (double **)__enzyme_shadow(ctx, &desc.base, 0);
  long *dsize = (long *)__enzyme_shadow(ctx, &desc.size, 0);
  void *outer = __enzyme_context(1);
  double *dg3 = (double *)__enzyme_shadow(outer, &g3, 0);
#define ZERO() __enzyme_zero_shadows(ctx)
#define GRAD(x) __enzyme_autodiff((void *)f, enzyme_context, ctx, (x))
#define TANGENT(x, dx) __enzyme_fwddiff((void *)sum, enzyme_context, ctx, (x), (dx))
#define NESTED(x, dx) __enzyme_fwddiff((void *)dcube, enzyme_context, outer, (x), (dx))
  void *hctx = __enzyme_context(1);
  double **dheap = (double **)__enzyme_shadow(hctx, &heap, 0);
#define HZERO() __enzyme_zero_shadows(hctx)
#define HGRAD(x) __enzyme_autodiff((void *)hsum, enzyme_context, hctx, (x))
#endif
  /* the shadows of a struct pointing to another global, and of a part of a global */
  check_val("desc shadow points to the data shadow", 0, *dbase == ddata, 1);
  check_val("desc shadow keeps the size", 0, (double)*dsize, 3);
  check_val("&weights[1] shadow", 0, dw1 == dw + 1, 1);

  /* reverse: adjoints of the globals, zeroed before each gradient */
  for (int i = 0; i < 3; i++) {
    double x = x0 + 0.5 * i;
    ZERO();
    double dx = GRAD(x);
    check_an("dx", i, dx, 2 * scale * (weights[0] + weights[1]) * x + hidden);
    check_an("dscale", i, *dscale, (weights[0] + weights[1]) * x * x);
    check_an("dw0", i, dw[0], scale * x * x);
    check_an("dw1", i, *dw1, scale * x * x);
    check_an("dhidden", i, *dhidden, x);
    double v[2] = {x, scale};
    check_fd("dscale", i, *dscale, fdv(f_of, v, 1, 0));
  }
  /* without zeroing, a second gradient accumulates onto the first */
  ZERO();
  GRAD(x0);
  GRAD(x0);
  check_an("dscale accumulated", 0, *dscale, 2 * (weights[0] + weights[1]) * x0 * x0);
  check_an("dhidden accumulated", 0, *dhidden, 2 * x0);

  /* forward: the tangent of data seeded through the context, read through desc.base */
  ZERO();
  ddata[0] = 1.0;
  ddata[2] = 0.5;
  check_an("tangent via data", 0, TANGENT(2.0, 0.0), 2.0 * 1.5);
  check_an("tangent via x and data", 0, TANGENT(2.0, 1.0), 2.0 * 1.5 + 6.0);
  check_val("desc shadow still points to the data shadow", 0, *dbase == ddata, 1);

  /* nested: forward mode (outer context) over reverse mode (inner context) */
  *dg3 = 0.0;
  check_an("d2 cube / dx2", 0, NESTED(2.0, 1.0), 6 * g3 * 2.0);
  *dg3 = 1.0;
  check_an("d2 cube / dx dg", 0, NESTED(2.0, 0.0), 3 * 2.0 * 2.0);
  check_val("cube primal", 0, dcube(2.0), 3 * g3 * 4.0);

  /* width 2: the lanes of data's shadow, seeded apart, read through desc.base */
#ifdef ADCC_SELFTEST
  static double lane0_s[3], lane1_s[3], *base1_s = lane1_s;
  double *lane0 = lane0_s, *lane1 = lane1_s, **base1 = &base1_s;
#define TANGENT2(x, dx0, dx1) ((Tan2){(x) * (lane0_s[0] + lane0_s[1] + lane0_s[2]) + (dx0) * 6.0, \
                                      (x) * (lane1_s[0] + lane1_s[1] + lane1_s[2]) + (dx1) * 6.0})
#else
  void *ctx2 = __enzyme_context(2);
  double *lane0 = (double *)__enzyme_shadow(ctx2, &data, 0);
  double *lane1 = (double *)__enzyme_shadow(ctx2, &data, 1);
  double **base1 = (double **)__enzyme_shadow(ctx2, &desc.base, 1);
#define TANGENT2(x, dx0, dx1) __enzyme_fwddiff2((void *)sum, enzyme_context, ctx2, (x), (dx0), (dx1))
#endif
  check_val("lane 1 of desc's shadow points to lane 1 of data's", 0, *base1 == lane1, 1);
  lane0[1] = 1.0;
  lane1[2] = 2.0;
  Tan2 t2 = TANGENT2(2.0, 0.0, 1.0);
  check_an("lane 0", 0, t2.d0, 2.0 * 1.0);
  check_an("lane 1", 0, t2.d1, 2.0 * 2.0 + 6.0);

  /* heap memory behind a global: its shadow is allocated at the first gradient */
  for (int i = 0; i < 2; i++) {
    double x = 1.0 + i;
    HZERO();
    check_an("dh/dx", i, HGRAD(x), 30.0);
    for (int k = 0; k < 4; k++) check_an("dh/dheap", 4 * i + k, (*dheap)[k], 2 * heap[k] * x);
  }
  free(heap);
  return e2e_finish();
}
