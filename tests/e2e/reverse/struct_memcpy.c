// Reverse mode copying doubles through memcpy of a struct and struct assignment: the input
// state is memcpy'd into a local, integrated for a few steps, and assigned to a dup output
// struct; the int field is inactive. Gradients reach the input struct's shadow.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef struct {
  double pos[3];
  int id;
  double vel[3];
  double mass;
} state;

static double f(const state *in, state *out, int steps) {
  state s;
  memcpy(&s, in, sizeof s);
  for (int t = 0; t < steps; t++) {
    for (int k = 0; k < 3; k++) {
      double force = -s.pos[k] * (1.0 + 0.1 * s.pos[k] * s.pos[k]);
      s.vel[k] += 0.1 * force / s.mass;
      s.pos[k] += 0.1 * s.vel[k];
    }
  }
  *out = s; /* struct copy (memcpy in IR) */
  double e = 0.0;
  for (int k = 0; k < 3; k++) e += out->pos[k] * out->pos[k] + 0.5 * s.mass * s.vel[k] * s.vel[k];
  return e;
}

/* FD/tangent over v = [pos(3) vel(3) mass]. */
static double fv(double *v, void *p) {
  int steps = *(int *)p;
  state in, out;
  memcpy(in.pos, v, sizeof in.pos);
  memcpy(in.vel, v + 3, sizeof in.vel);
  in.mass = v[6];
  in.id = 7;
  return f(&in, &out, steps);
}

/* Hand-written: tangent sweep per input, 7 inputs. */
static double tangent(const double *v, int steps, int which) {
  double p[3], u[3], dp[3], du[3], m = v[6], dm = (which == 6);
  for (int k = 0; k < 3; k++) {
    p[k] = v[k]; dp[k] = (which == k);
    u[k] = v[3 + k]; du[k] = (which == 3 + k);
  }
  for (int t = 0; t < steps; t++)
    for (int k = 0; k < 3; k++) {
      double F = -p[k] * (1.0 + 0.1 * p[k] * p[k]), dF = -(1.0 + 0.3 * p[k] * p[k]) * dp[k];
      du[k] += 0.1 * (dF / m - F * dm / (m * m));
      u[k] += 0.1 * F / m;
      dp[k] += 0.1 * du[k];
      p[k] += 0.1 * u[k];
    }
  double de = 0.0;
  for (int k = 0; k < 3; k++) de += 2.0 * p[k] * dp[k] + 0.5 * dm * u[k] * u[k] + m * u[k] * du[k];
  return de;
}

int main(void) {
  e2e_begin("reverse/struct_memcpy");
  volatile int vs = 6;
  int steps = vs;
  double v[7] = {0.5, -0.3, 0.9, 0.2, 0.4, -0.6, 1.3}, want[7];
  state in, din, out, dout;
  memcpy(in.pos, v, sizeof in.pos);
  memcpy(in.vel, v + 3, sizeof in.vel);
  in.mass = v[6];
  in.id = 7;
  memset(&din, 0, sizeof din);
  memset(&dout, 0, sizeof dout);
  for (int i = 0; i < 7; i++) want[i] = tangent(v, steps, i);
#ifdef ADCC_SELFTEST
  for (int k = 0; k < 3; k++) {
    din.pos[k] += want[k];
    din.vel[k] += want[3 + k];
  }
  din.mass += want[6];
  f(&in, &out, steps);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, &in, &din, enzyme_dup, &out, &dout, enzyme_const, steps);
#endif
  double got[7] = {din.pos[0], din.pos[1], din.pos[2], din.vel[0], din.vel[1], din.vel[2], din.mass};
  for (int i = 0; i < 7; i++) {
    check_an("din", i, got[i], want[i]);
    check_fd("din", i, got[i], fdv(fv, v, i, &steps));
  }
  check_val("out.id (primal copy)", 0, out.id, 7.0);
  for (int k = 0; k < 3; k++) check_val("dout.pos consumed", k, dout.pos[k], 0.0);
  return e2e_finish();
}
