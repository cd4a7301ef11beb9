/* Bundle-adjustment residuals and their Jacobian blocks, as ADBench defines them. Camera (11):
 * Rodrigues rotation (3), centre (3), focal length, principal point (2), radial distortion (2);
 * point (3); weight w. Per observation: reprojection error w * (proj(cam, X) - feature) (2) and
 * weight error 1 - w^2 (1). Three ways to build the Jacobian blocks, each checked and timed:
 * - `ba`: vector reverse mode, both rows of a block in one call (`enzyme_width 2`);
 * - `ba_rows`: one reverse-mode call per row (as ADBench's reverse-mode tools do);
 * - `ba_fwd`: vector forward mode, the 15 columns of a block in one call (`enzyme_width 15`).
 * Usage: ba [--quick] [--size P (observations)] DATA  (ADBench ba*.txt: one camera, point, weight
 * and feature, replicated to n cameras, m points, p observations; observation i uses camera i%n
 * and point i%m). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_dupv;
int enzyme_const;
int enzyme_width;

enum { NCAM = 11, ROT = 0, CENTRE = 3, FOCAL = 6, PRINCIPAL = 7, RADIAL = 9, NBLOCK = NCAM + 3 + 1 };

static void rodrigues_rotate(const double *rot, const double *x, double *out) {
  double sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
  if (sqtheta != 0.0) {
    double theta = sqrt(sqtheta), c = cos(theta), s = sin(theta);
    double w[3] = {rot[0] / theta, rot[1] / theta, rot[2] / theta};
    double wx[3] = {w[1] * x[2] - w[2] * x[1], w[2] * x[0] - w[0] * x[2], w[0] * x[1] - w[1] * x[0]};
    double t = (w[0] * x[0] + w[1] * x[1] + w[2] * x[2]) * (1.0 - c);
    for (int i = 0; i < 3; i++) out[i] = x[i] * c + wx[i] * s + w[i] * t;
  } else { /* first-order expansion at theta = 0 */
    out[0] = x[0] + rot[1] * x[2] - rot[2] * x[1];
    out[1] = x[1] + rot[2] * x[0] - rot[0] * x[2];
    out[2] = x[2] + rot[0] * x[1] - rot[1] * x[0];
  }
}

__attribute__((noinline))
static void reprojection_error(const double *cam, const double *pt, const double *w,
                               const double *feat, double *err) {
  double rel[3], xc[3];
  for (int i = 0; i < 3; i++) rel[i] = pt[i] - cam[CENTRE + i];
  rodrigues_rotate(cam + ROT, rel, xc);
  double u = xc[0] / xc[2], v = xc[1] / xc[2];
  double rsq = u * u + v * v;
  double l = 1.0 + cam[RADIAL] * rsq + cam[RADIAL + 1] * rsq * rsq;
  err[0] = w[0] * (cam[FOCAL] * l * u + cam[PRINCIPAL] - feat[0]);
  err[1] = w[0] * (cam[FOCAL] * l * v + cam[PRINCIPAL + 1] - feat[1]);
}

__attribute__((noinline))
static void weight_error(const double *w, double *err) { err[0] = 1.0 - w[0] * w[0]; }

typedef struct {
  int n, m, p;
  double *cams, *pts, *w, *feats;
  int *obs;          /* [p][2]: camera, point */
  double *reproj;    /* [p][2] */
  double *werr;      /* [p] */
  double *jac;       /* [p][2][NBLOCK]: d reproj_r / (cam, point, w) */
  double *wjac;      /* [p]: d werr / dw */
} ba_problem;

static void run_primal(void *ctx) {
  ba_problem *b = ctx;
  for (int i = 0; i < b->p; i++)
    reprojection_error(b->cams + NCAM * b->obs[2 * i], b->pts + 3 * b->obs[2 * i + 1], b->w + i,
                       b->feats + 2 * i, b->reproj + 2 * i);
  for (int i = 0; i < b->p; i++) weight_error(b->w + i, b->werr + i);
}

static void weight_block(ba_problem *b, int i) {
  double one = 1.0, werr;
  b->wjac[i] = 0.0;
  __enzyme_autodiff((void *)weight_error, enzyme_dup, b->w + i, b->wjac + i, enzyme_dup, &werr, &one);
}

/* both rows in one reverse pass: lane r seeds residual r and fills row r (rows NBLOCK apart) */
static void jacobian_block(ba_problem *b, int i) {
  const double *cam = b->cams + NCAM * b->obs[2 * i], *pt = b->pts + 3 * b->obs[2 * i + 1];
  double err[2], seed[2][2] = {{1.0, 0.0}, {0.0, 1.0}}, *rows = b->jac + 2L * i * NBLOCK;
  const long stride = sizeof(double) * NBLOCK;
  memset(rows, 0, sizeof(double) * 2 * NBLOCK);
  __enzyme_autodiff((void *)reprojection_error, enzyme_width, 2, enzyme_dupv, stride, cam, rows,
                    enzyme_dupv, stride, pt, rows + NCAM, enzyme_dupv, stride, b->w + i, rows + NCAM + 3,
                    enzyme_const, b->feats + 2 * i, enzyme_dupv, sizeof seed[0], err, seed);
  weight_block(b, i);
}

/* one reverse pass per row */
static void jacobian_block_rows(ba_problem *b, int i) {
  const double *cam = b->cams + NCAM * b->obs[2 * i], *pt = b->pts + 3 * b->obs[2 * i + 1];
  double err[2];
  for (int r = 0; r < 2; r++) {
    double *row = b->jac + (2L * i + r) * NBLOCK;
    double derr[2] = {0.0, 0.0};
    derr[r] = 1.0;
    memset(row, 0, sizeof(double) * NBLOCK);
    __enzyme_autodiff((void *)reprojection_error, enzyme_dup, cam, row, enzyme_dup, pt, row + NCAM,
                      enzyme_dup, b->w + i, row + NCAM + 3, enzyme_const, b->feats + 2 * i,
                      enzyme_dup, err, derr);
  }
  weight_block(b, i);
}

/* vector forward mode: tangent k = unit vector k of (cam, point, w); column k of both rows */
typedef struct { double v[NBLOCK][NBLOCK]; } ba_seeds;
static ba_seeds ba_unit;
static void jacobian_block_fwd(ba_problem *b, int i) {
  const double *cam = b->cams + NCAM * b->obs[2 * i], *pt = b->pts + 3 * b->obs[2 * i + 1];
  double err[2], derr[NBLOCK][2], *rows = b->jac + 2L * i * NBLOCK;
  const long stride = sizeof(double) * NBLOCK;
  __enzyme_fwddiff((void *)reprojection_error, enzyme_width, NBLOCK, enzyme_dupv, stride, cam, &ba_unit.v[0][0],
                   enzyme_dupv, stride, pt, &ba_unit.v[0][NCAM], enzyme_dupv, stride, b->w + i,
                   &ba_unit.v[0][NCAM + 3], enzyme_const, b->feats + 2 * i, enzyme_dupv, sizeof derr[0], err, derr);
  for (int k = 0; k < NBLOCK; k++) {
    rows[k] = derr[k][0];
    rows[NBLOCK + k] = derr[k][1];
  }
  weight_block(b, i);
}

static void run_grad(void *ctx) {
  ba_problem *b = ctx;
  for (int i = 0; i < b->p; i++) jacobian_block(b, i);
}
static void run_grad_rows(void *ctx) {
  ba_problem *b = ctx;
  for (int i = 0; i < b->p; i++) jacobian_block_rows(b, i);
}
static void run_grad_fwd(void *ctx) {
  ba_problem *b = ctx;
  for (int i = 0; i < b->p; i++) jacobian_block_fwd(b, i);
}

/* FD oracle for one observation's block: x = [cam | point | w], loss = s . residuals. */
typedef struct { const double *feat; const double *seed; } block_ctx;
static double block_loss(const double *x, void *ctx) {
  block_ctx *c = ctx;
  double err[2], werr;
  reprojection_error(x, x + NCAM, x + NCAM + 3, c->feat, err);
  weight_error(x + NCAM + 3, &werr);
  return c->seed[0] * err[0] + c->seed[1] * err[1] + c->seed[2] * werr;
}

static double check_blocks(ba_problem *b) {
  double worst = 0.0;
  int picks[3] = {0, b->p / 2, b->p - 1};
  for (int k = 0; k < 3; k++) {
    int i = picks[k];
    double x[NBLOCK], g[NBLOCK] = {0}, seed[3];
    memcpy(x, b->cams + NCAM * b->obs[2 * i], sizeof(double) * NCAM);
    memcpy(x + NCAM, b->pts + 3 * b->obs[2 * i + 1], sizeof(double) * 3);
    x[NCAM + 3] = b->w[i];
    for (int r = 0; r < 3; r++) seed[r] = bench_uniform();
    /* seed^T J from the computed blocks */
    for (int r = 0; r < 2; r++)
      for (int j = 0; j < NBLOCK; j++) g[j] += seed[r] * b->jac[(2L * i + r) * NBLOCK + j];
    g[NCAM + 3] += seed[2] * b->wjac[i];
    block_ctx c = {b->feats + 2 * i, seed};
    double e = bench_check_grad(block_loss, &c, x, g, NBLOCK, 2, 1e-4);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  if (!a.data) { fprintf(stderr, "ba: need an ADBench ba input file\n"); return 2; }
  FILE *f = bench_open(a.data);
  ba_problem b;
  if (fscanf(f, "%d %d %d", &b.n, &b.m, &b.p) != 3) { fprintf(stderr, "ba: bad header\n"); return 2; }
  double cam[NCAM], pt[3], w, feat[2];
  for (int j = 0; j < NCAM; j++) cam[j] = bench_read_double(f);
  for (int j = 0; j < 3; j++) pt[j] = bench_read_double(f);
  w = bench_read_double(f);
  for (int j = 0; j < 2; j++) feat[j] = bench_read_double(f);
  fclose(f);
  if (a.size > 0 && a.size < b.p) b.p = (int)a.size;
  if (a.quick && b.p > 200) b.p = 200;
  if (b.n > b.p) b.n = b.p;
  if (b.m > b.p) b.m = b.p;
  b.cams = malloc(sizeof(double) * NCAM * b.n);
  b.pts = malloc(sizeof(double) * 3 * b.m);
  b.w = malloc(sizeof(double) * b.p);
  b.feats = malloc(sizeof(double) * 2 * b.p);
  b.obs = malloc(sizeof(int) * 2 * b.p);
  b.reproj = malloc(sizeof(double) * 2 * b.p);
  b.werr = malloc(sizeof(double) * b.p);
  b.jac = malloc(sizeof(double) * 2 * NBLOCK * b.p);
  b.wjac = malloc(sizeof(double) * b.p);
  for (int i = 0; i < b.n; i++) memcpy(b.cams + NCAM * i, cam, sizeof cam);
  for (int i = 0; i < b.m; i++) memcpy(b.pts + 3 * i, pt, sizeof pt);
  for (int i = 0; i < b.p; i++) {
    b.w[i] = w;
    memcpy(b.feats + 2 * i, feat, sizeof feat);
    b.obs[2 * i] = i % b.n;
    b.obs[2 * i + 1] = i % b.m;
  }

  for (int k = 0; k < NBLOCK; k++) ba_unit.v[k][k] = 1.0;
  char size[64];
  snprintf(size, sizeof size, "n%d_m%d_p%d", b.n, b.m, b.p);
  double tp = bench_time(&a, run_primal, &b);
  const char *names[3] = {"ba", "ba_rows", "ba_fwd"};
  void (*grads[3])(void *) = {run_grad, run_grad_rows, run_grad_fwd};
  int rc = 0;
  for (int k = 0; k < 3; k++) {
    memset(b.jac, 0, sizeof(double) * 2 * NBLOCK * b.p);
    grads[k](&b);
    double err = check_blocks(&b);
    rc |= bench_report(names[k], size, tp, bench_time(&a, grads[k], &b), err);
  }
  return rc;
}
