/* LSTM next-character loss, as ADBench defines it: l layers of LSTM cells of hidden size b; main
 * params per layer = weights (4b: forget, input, output, change gates) then biases (4b); extra
 * params = input scale (b), output scale (b), output bias (b); state = (hidden, cell) per layer;
 * loss = -(1/((c-1) b)) sum_t sequence[t+1] . log-softmax-like normalisation of the prediction.
 * Reverse-mode gradient w.r.t. main and extra params.
 * Usage: lstm [--quick] [--size C (characters)] DATA  (ADBench lstm_lL_cC.txt). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
extern void *__enzyme_augmentfwd(void *, ...);
extern void __enzyme_reverse(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_const;
int enzyme_not_overwritten;

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ADBench's normaliser: log(2 + sum exp(y)). */
static double log_sum_exp2(const double *y, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += exp(y[i]);
  return log(s + 2.0);
}

static void lstm_cell(int b, const double *weight, const double *bias, double *hidden, double *cell,
                      const double *input) {
  for (int i = 0; i < b; i++) {
    double forget = sigmoid(input[i] * weight[i] + bias[i]);
    double ingate = sigmoid(hidden[i] * weight[b + i] + bias[b + i]);
    double outgate = sigmoid(input[i] * weight[2 * b + i] + bias[2 * b + i]);
    double change = tanh(hidden[i] * weight[3 * b + i] + bias[3 * b + i]);
    cell[i] = cell[i] * forget + ingate * change;
    hidden[i] = outgate * tanh(cell[i]);
  }
}

static void lstm_predict(int l, int b, const double *main_params, const double *extra_params,
                         double *state, const double *input, double *scaled, double *pred) {
  for (int i = 0; i < b; i++) scaled[i] = input[i] * extra_params[i];
  const double *x = scaled;
  for (int layer = 0; layer < l; layer++) {
    double *hidden = state + 2 * layer * b;
    lstm_cell(b, main_params + 8 * layer * b, main_params + (8 * layer + 4) * b, hidden,
              state + (2 * layer + 1) * b, x);
    x = hidden;
  }
  for (int i = 0; i < b; i++) pred[i] = x[i] * extra_params[b + i] + extra_params[2 * b + i];
}

__attribute__((noinline))
static double lstm_objective(int l, int c, int b, const double *main_params,
                             const double *extra_params, const double *state0,
                             const double *sequence) {
  double *state = malloc(sizeof(double) * 2 * l * b);
  double *scaled = malloc(sizeof(double) * b);
  double *pred = malloc(sizeof(double) * b);
  memcpy(state, state0, sizeof(double) * 2 * l * b);
  double total = 0.0;
  for (int t = 0; t < c - 1; t++) {
    lstm_predict(l, b, main_params, extra_params, state, sequence + t * b, scaled, pred);
    double lse = log_sum_exp2(pred, b);
    const double *gold = sequence + (t + 1) * b;
    for (int i = 0; i < b; i++) total += gold[i] * (pred[i] - lse);
  }
  free(state); free(scaled); free(pred);
  return -total / ((double)(c - 1) * b);
}

typedef struct {
  int l, c, b;
  long nmain, nparams;
  double *params, *grad; /* [main 8*l*b | extra 3*b] */
  double *state, *sequence;
} lstm_problem;

static double lstm_loss(const double *p, void *ctx) {
  lstm_problem *s = ctx;
  return lstm_objective(s->l, s->c, s->b, p, p + s->nmain, s->state, s->sequence);
}

static volatile double sink;
static void run_primal(void *ctx) { sink = lstm_loss(((lstm_problem *)ctx)->params, ctx); }

static void run_grad(void *ctx) {
  lstm_problem *s = ctx;
  memset(s->grad, 0, sizeof(double) * s->nparams);
  __enzyme_autodiff((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
                    enzyme_dup, s->params, s->grad, enzyme_dup, s->params + s->nmain, s->grad + s->nmain,
                    enzyme_const, s->state, enzyme_const, s->sequence);
}

/* --higher (#11): the gradient in split mode (two calls; `kept`: inputs marked
 * enzyme_not_overwritten), and a Hessian-vector product by forward mode over the gradient. */
static void split(lstm_problem *s, int kept) {
  memset(s->grad, 0, sizeof(double) * s->nparams);
  void *tape;
  if (kept) {
    tape = __enzyme_augmentfwd((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
        enzyme_not_overwritten, enzyme_dup, s->params, s->grad, enzyme_not_overwritten, enzyme_dup,
        s->params + s->nmain, s->grad + s->nmain, enzyme_not_overwritten, enzyme_const, s->state,
        enzyme_not_overwritten, enzyme_const, s->sequence);
    __enzyme_reverse((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
        enzyme_not_overwritten, enzyme_dup, s->params, s->grad, enzyme_not_overwritten, enzyme_dup,
        s->params + s->nmain, s->grad + s->nmain, enzyme_not_overwritten, enzyme_const, s->state,
        enzyme_not_overwritten, enzyme_const, s->sequence, 1.0, tape);
  } else {
    tape = __enzyme_augmentfwd((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
        enzyme_dup, s->params, s->grad, enzyme_dup, s->params + s->nmain, s->grad + s->nmain,
        enzyme_const, s->state, enzyme_const, s->sequence);
    __enzyme_reverse((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
        enzyme_dup, s->params, s->grad, enzyme_dup, s->params + s->nmain, s->grad + s->nmain,
        enzyme_const, s->state, enzyme_const, s->sequence, 1.0, tape);
  }
}
static void run_split(void *ctx) { split(ctx, 1); }
static void run_split_default(void *ctx) { split(ctx, 0); }

static void lstm_gradient(const double *p, double *grad, void *ctx) {
  lstm_problem *s = ctx;
  for (long i = 0; i < s->nparams; i++) grad[i] = 0.0;
  __enzyme_autodiff((void *)lstm_objective, enzyme_const, s->l, enzyme_const, s->c, enzyme_const, s->b,
                    enzyme_dup, p, grad, enzyme_dup, p + s->nmain, grad + s->nmain,
                    enzyme_const, s->state, enzyme_const, s->sequence);
}

typedef struct { lstm_problem *s; double *v, *grad, *hv; } lstm_hvp;

static void run_hvp(void *ctx) {
  lstm_hvp *h = ctx;
  __enzyme_fwddiff((void *)lstm_gradient, enzyme_dup, h->s->params, h->v, enzyme_dup, h->grad, h->hv,
                   enzyme_const, h->s);
}

static int run_higher(const bench_args *a, lstm_problem *s, const char *size) {
  long n = s->nparams;
  double *want = malloc(sizeof(double) * n), err = 0.0;
  run_grad(s);
  memcpy(want, s->grad, sizeof(double) * n);
  for (int kept = 0; kept < 2; kept++) {
    split(s, kept);
    for (long i = 0; i < n; i++) err = fmax(err, bench_rel_err(s->grad[i], want[i], 1e-12));
  }
  lstm_hvp h = {s, malloc(sizeof(double) * n), malloc(sizeof(double) * n), malloc(sizeof(double) * n)};
  for (long i = 0; i < n; i++) h.v[i] = bench_uniform();
  run_hvp(&h);
  err = fmax(err, bench_check_hvp(lstm_gradient, s, s->params, h.v, h.hv, n, 1e-4));
  double tg = INFINITY, ts = INFINITY, td = INFINITY, th = INFINITY;
  for (int round = 0; round < 3; round++) { /* interleaved: a loaded machine slows them alike */
    tg = fmin(tg, bench_time(a, run_grad, s));
    ts = fmin(ts, bench_time(a, run_split, s));
    td = fmin(td, bench_time(a, run_split_default, s));
    th = fmin(th, bench_time(a, run_hvp, &h));
  }
  return bench_report_higher("lstm", size, err, "grad_s", tg, "split_s", ts, "split_ratio", ts / tg,
                             "split_default_s", td, "split_default_ratio", td / tg, "hvp_s", th,
                             "hvp_ratio", th / tg, (const char *)NULL);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  if (!a.data) { fprintf(stderr, "lstm: need an ADBench lstm input file\n"); return 2; }
  FILE *f = bench_open(a.data);
  lstm_problem s;
  if (fscanf(f, "%d %d %d", &s.l, &s.c, &s.b) != 3) { fprintf(stderr, "lstm: bad header\n"); return 2; }
  s.nmain = 8L * s.l * s.b;
  s.nparams = s.nmain + 3L * s.b;
  s.params = malloc(sizeof(double) * s.nparams);
  s.grad = malloc(sizeof(double) * s.nparams);
  for (long i = 0; i < s.nparams; i++) s.params[i] = bench_read_double(f);
  s.state = malloc(sizeof(double) * 2 * s.l * s.b);
  for (long i = 0; i < 2L * s.l * s.b; i++) s.state[i] = bench_read_double(f);
  s.sequence = malloc(sizeof(double) * (size_t)s.c * s.b);
  for (long i = 0; i < (long)s.c * s.b; i++) s.sequence[i] = bench_read_double(f);
  fclose(f);
  if (!bench_wanted(&a, "lstm")) return 0;
  if (a.size > 1 && a.size < s.c) s.c = (int)a.size;
  if (a.quick && s.c > 16) s.c = 16;

  char size[64];
  snprintf(size, sizeof size, "l%d_c%d_b%d", s.l, s.c, s.b);
  if (a.higher) return run_higher(&a, &s, size);
  run_grad(&s);
  double err = bench_check_grad(lstm_loss, &s, s.params, s.grad, s.nparams, 4, 1e-3);
  double tp = bench_time(&a, run_primal, &s);
  double tg = bench_time(&a, run_grad, &s);
  return bench_report("lstm", size, tp, tg, err);
}
