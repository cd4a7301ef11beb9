// Custom rules in single precision and in vector forward mode:
// - r(a, b) in float: the reverse pass returns struct {float, float} (C returns it as
//   <2 x float>), the forward derivative returns {primal, tangent} in float (likewise coerced);
// - p(x, y) in double under enzyme_width 2 and 3: the forward derivative is called once per lane
//   with that lane's tangents (as Enzyme does).
#include "../e2e.h"

typedef struct { float da, db; } gradf;
extern gradf __enzyme_autodiff(void *, ...);
extern float __enzyme_fwddiff(void *, ...);
typedef struct { double t0, t1; } T2;
typedef struct { double t0, t1, t2; } T3;
extern T2 __enzyme_fwddiff2(void *, ...);
extern T3 __enzyme_fwddiff3(void *, ...);
int enzyme_width, enzyme_dup, enzyme_const;

static int r_rev_n, r_fwd_n, p_fwd_n;

__attribute__((noinline)) float r(float a, float b) { return a * b * b + sinf(a); }
static float r_aug(float a, float b) { return a * b * b + sinf(a); }
static gradf r_rev(float a, float b, float dret) {
  r_rev_n++;
  gradf g = {(b * b + cosf(a)) * dret, 2.0f * a * b * dret};
  return g;
}
void *__enzyme_register_gradient_r[3] = {(void *)r, (void *)r_aug, (void *)r_rev};
typedef struct { float primal, tangent; } dualf;
static dualf r_fwd(float a, float da, float b, float db) {
  r_fwd_n++;
  dualf d = {a * b * b + sinf(a), (b * b + cosf(a)) * da + 2.0f * a * b * db};
  return d;
}
void *__enzyme_register_derivative_r[2] = {(void *)r, (void *)r_fwd};

static float gf(float a, float b) { return 2.0f * r(a, b) + r(b, a); }
static double gd(double a, double b) { return 2.0 * (a * b * b + sin(a)) + (b * a * a + sin(b)); }
static double gdv(double *v, void *c) { (void)c; return gd(v[0], v[1]); }

__attribute__((noinline)) double p(double x, double y) { return x * exp(y); }
typedef struct { double primal, tangent; } dual;
static dual p_fwd(double x, double dx, double y, double dy) {
  p_fwd_n++;
  dual d = {x * exp(y), exp(y) * dx + x * exp(y) * dy};
  return d;
}
void *__enzyme_register_derivative_p[2] = {(void *)p, (void *)p_fwd};
static double h(double x, double y, double c) { return p(x, y) * c + p(y, x); }
static double hv(double *v, void *c) { return h(v[0], v[1], *(double *)c); }

int main(void) {
  e2e_begin("declarations/custom_float_width");
  float a = 0.8f, b = -1.3f;
  double da_w = 2.0 * (b * b + cos(a)) + 2.0 * b * a, db_w = 2.0 * (2.0 * a * b) + (a * a + cos(b));
  double v[2] = {a, b};
#ifdef ADCC_SELFTEST
  gradf g = {(float)da_w, (float)db_w};
  float t = (float)(da_w * 0.5 + db_w * -2.0);
#else
  gradf g = __enzyme_autodiff((void *)gf, a, b);
  float t = __enzyme_fwddiff((void *)gf, a, 0.5f, b, -2.0f);
  check_val("reverse calls of r", 0, r_rev_n, 2);
  check_val("forward calls of r", 0, r_fwd_n, 2);
#endif
  check_f32("da", 0, g.da, da_w);
  check_f32("db", 0, g.db, db_w);
  check_f32("da vs fd", 0, g.da, fdv(gdv, v, 0, 0));
  check_f32("db vs fd", 0, g.db, fdv(gdv, v, 1, 0));
  check_f32("tangent", 0, t, da_w * 0.5 + db_w * -2.0);

  double x = 0.6, y = -0.4, c = 1.7, w[2] = {x, y};
  double hx = exp(y) * c + y * exp(x), hy = x * exp(y) * c + exp(x);
  const double sx[3] = {1.0, 0.0, 0.5}, sy[3] = {0.0, 1.0, -1.5};
#ifdef ADCC_SELFTEST
  T2 t2 = {hx * sx[0] + hy * sy[0], hx * sx[1] + hy * sy[1]};
  T3 t3 = {t2.t0, t2.t1, hx * sx[2] + hy * sy[2]};
#else
  T2 t2 = __enzyme_fwddiff2((void *)h, enzyme_width, 2, enzyme_dup, x, sx[0], sx[1], enzyme_dup, y, sy[0], sy[1],
                            enzyme_const, c);
  check_val("forward calls of p, width 2", 0, p_fwd_n, 2 * 2);
  T3 t3 = __enzyme_fwddiff3((void *)h, enzyme_width, 3, enzyme_dup, x, sx[0], sx[1], sx[2], enzyme_dup, y, sy[0],
                            sy[1], sy[2], enzyme_const, c);
  check_val("forward calls of p, width 3", 0, p_fwd_n, 2 * 2 + 2 * 3);
#endif
  double lanes[5] = {t2.t0, t2.t1, t3.t0, t3.t1, t3.t2};
  int lane_of[5] = {0, 1, 0, 1, 2};
  for (int k = 0; k < 5; k++) {
    int l = lane_of[k];
    double dir[2] = {sx[l], sy[l]};
    check_an("lane", k, lanes[k], hx * sx[l] + hy * sy[l]);
    check_fd("lane", k, lanes[k], fd_dir(hv, w, dir, 2, &c));
  }
  return e2e_finish();
}
