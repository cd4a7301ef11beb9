// Tables of C library math functions called through pointers (#9): an indirect call that may
// reach sin, exp, pow, ... differentiates them with their rules (through a stub per function),
// beside the program's own functions of the same type. The tables are global (indexed at run
// time), local, and reached through a struct; unary and binary functions.
#include "both.h"

typedef double (*unary)(double);
typedef double (*binary)(double, double);

static double square(double t) { return t * t; }

static unary unaries[] = {sin, cos, exp, log1p, square, tanh};
static volatile int first = 1;

static double global_table(double *x) {
  double s = 0;
  for (int i = 0; i < 3; i++) s += (i + 1) * unaries[(first + 2 * i) % 6](x[i]);  /* cos, log1p, tanh */
  return s;
}
DECLARE_FD(global_table)

static double local_table(double *x) {
  unary ops[] = {sin, cos, exp};
  double s = 0;
  for (int i = 0; i < 3; i++) s += ops[i](x[i]) * x[(i + 1) % 3];
  return s;
}
DECLARE_FD(local_table)

typedef struct { binary f[3]; } binaries;
static binaries pairs = {{pow, atan2, hypot}};
static binaries *volatile current = &pairs;

static double struct_table(double *x) {
  const binaries *t = current;
  double s = 0;
  for (int i = 0; i < 3; i++) s += t->f[i](x[i], x[(i + 1) % 3]);
  return s;
}
DECLARE_FD(struct_table)

int main(void) {
  e2e_begin("memory/function_table");
  double x[3] = {0.5, 1.25, 0.75};
  double g[3] = {-sin(x[0]), 2 / (1 + x[1]), 3 * (1 - tanh(x[2]) * tanh(x[2]))};
  CHECK_BOTH(global_table, x, 3, g);
  double gl[3] = {cos(x[0]) * x[1] + exp(x[2]), -sin(x[1]) * x[2] + sin(x[0]), exp(x[2]) * x[0] + cos(x[1])};
  CHECK_BOTH(local_table, x, 3, gl);
  /* pow(x0, x1) + atan2(x1, x2) + hypot(x2, x0) */
  double p = pow(x[0], x[1]), r2 = x[1] * x[1] + x[2] * x[2], h = hypot(x[2], x[0]);
  double gs[3] = {x[1] * pow(x[0], x[1] - 1) + x[0] / h, p * log(x[0]) + x[2] / r2, -x[1] / r2 + x[2] / h};
  CHECK_BOTH(struct_table, x, 3, gs);
  return e2e_finish();
}
