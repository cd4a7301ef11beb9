/* nn_loss.c - gradient of a neural-network training loss with adcc.
 *
 * A two-layer perceptron (tanh hidden layer, softmax output) scores a small
 * batch of points; the loss is the mean cross-entropy plus L2 weight decay.
 * The network is a struct of layers, each holding its sizes and pointers to
 * its weights and biases. adcc differentiates the loss with respect to every
 * weight by passing the network with enzyme_dup: the shadow network has the
 * same layout, its pointers point to the gradient buffers, and the gradients
 * are accumulated there.
 *
 * The activation scratch buffers are malloc'd inside the loss. The gradient
 * is checked against central finite differences for every parameter and,
 * under -DADCC_SELFTEST, replaced by hand-written backpropagation.
 *
 * As in many Enzyme programs, the activity markers are only declared here;
 * the compiler provides them.
 *
 * Build: adcc -O2 samples/nn_loss.c -o nn_loss -lm && ./nn_loss
 */
#include "fd_check.h"
#include <string.h>

extern void __enzyme_autodiff(void *, ...);
extern int enzyme_dup;
extern int enzyme_const;

#define NIN 4
#define NHID 7
#define NOUT 3
#define BATCH 8
#define DECAY 1e-2

struct layer {
  int in, out;
  double *W; /* out x in, row-major */
  double *b; /* out */
};

struct mlp {
  struct layer l1, l2;
};

/* y = W x + b for one sample. */
static void affine(const struct layer *L, const double *x, double *y) {
  for (int o = 0; o < L->out; o++) {
    double s = L->b[o];
    for (int i = 0; i < L->in; i++) s += L->W[o * L->in + i] * x[i];
    y[o] = s;
  }
}

static double sq_norm(const double *w, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += w[i] * w[i];
  return s;
}

/* The differentiated function. */
static double mlp_loss(const struct mlp *net, const double *X, const int *labels, int batch) {
  int nh = net->l1.out, no = net->l2.out, ni = net->l1.in;
  double *h = (double *)malloc((size_t)nh * sizeof(double));
  double *z = (double *)malloc((size_t)no * sizeof(double));
  double total = 0.0;
  for (int s = 0; s < batch; s++) {
    affine(&net->l1, X + s * ni, h);
    for (int j = 0; j < nh; j++) h[j] = tanh(h[j]);
    affine(&net->l2, h, z);
    double m = z[0];
    for (int k = 1; k < no; k++) m = z[k] > m ? z[k] : m;
    double se = 0.0;
    for (int k = 0; k < no; k++) se += exp(z[k] - m);
    total += m + log(se) - z[labels[s]]; /* -log softmax(z)[label] */
  }
  free(h);
  free(z);
  double reg = sq_norm(net->l1.W, nh * ni) + sq_norm(net->l2.W, no * nh);
  return total / batch + 0.5 * DECAY * reg;
}

/* Hand-written backpropagation; accumulates into the shadow network. */
static void mlp_backprop(const struct mlp *net, const double *X, const int *labels, int batch,
                         struct mlp *g) {
  int nh = net->l1.out, no = net->l2.out, ni = net->l1.in;
  double h[NHID], z[NOUT], dz[NOUT], dh[NHID];
  for (int s = 0; s < batch; s++) {
    const double *x = X + s * ni;
    affine(&net->l1, x, h);
    for (int j = 0; j < nh; j++) h[j] = tanh(h[j]);
    affine(&net->l2, h, z);
    double m = z[0], se = 0.0;
    for (int k = 1; k < no; k++) m = z[k] > m ? z[k] : m;
    for (int k = 0; k < no; k++) se += exp(z[k] - m);
    for (int k = 0; k < no; k++) dz[k] = (exp(z[k] - m) / se - (k == labels[s])) / batch;
    for (int j = 0; j < nh; j++) dh[j] = 0.0;
    for (int k = 0; k < no; k++) {
      g->l2.b[k] += dz[k];
      for (int j = 0; j < nh; j++) {
        g->l2.W[k * nh + j] += dz[k] * h[j];
        dh[j] += dz[k] * net->l2.W[k * nh + j];
      }
    }
    for (int j = 0; j < nh; j++) {
      double da = dh[j] * (1.0 - h[j] * h[j]);
      g->l1.b[j] += da;
      for (int i = 0; i < ni; i++) g->l1.W[j * ni + i] += da * x[i];
    }
  }
  for (int i = 0; i < nh * ni; i++) g->l1.W[i] += DECAY * net->l1.W[i];
  for (int i = 0; i < no * nh; i++) g->l2.W[i] += DECAY * net->l2.W[i];
}

/* Lay a network out over one flat parameter vector [W1 b1 W2 b2]. */
#define NPARAM (NHID * NIN + NHID + NOUT * NHID + NOUT)
static struct mlp view(double *theta) {
  struct mlp n;
  n.l1.in = NIN; n.l1.out = NHID; n.l1.W = theta; n.l1.b = theta + NHID * NIN;
  n.l2.in = NHID; n.l2.out = NOUT; n.l2.W = n.l1.b + NHID; n.l2.b = n.l2.W + NOUT * NHID;
  return n;
}

struct data { const double *X; const int *labels; int batch; };
static double loss_v(double *theta, void *ctx) {
  struct data *d = (struct data *)ctx;
  struct mlp n = view(theta);
  return mlp_loss(&n, d->X, d->labels, d->batch);
}

int main(void) {
  volatile int vb = BATCH;
  int batch = vb;
  double theta[NPARAM], dtheta[NPARAM], want[NPARAM], fd[NPARAM], X[BATCH * NIN];
  int labels[BATCH];
  for (int p = 0; p < NPARAM; p++) {
    theta[p] = 0.6 * sin(1.7 * p + 0.3);
    dtheta[p] = want[p] = 0.0;
  }
  for (int s = 0; s < BATCH; s++) {
    for (int i = 0; i < NIN; i++) X[s * NIN + i] = cos(0.9 * s + 1.3 * i) * (1.0 + 0.1 * i);
    labels[s] = (s * 5 + 1) % NOUT;
  }
  struct mlp net = view(theta), dnet = view(dtheta), wnet = view(want);
  struct data d = {X, labels, batch};

  printf("MLP %d-%d-%d, tanh + softmax cross-entropy, batch %d, %d parameters\n", NIN, NHID, NOUT,
         batch, NPARAM);
  printf("loss = %.12f\n", mlp_loss(&net, X, labels, batch));

#ifdef ADCC_SELFTEST
  mlp_backprop(&net, X, labels, batch, &dnet);
#else
  __enzyme_autodiff((void *)mlp_loss, enzyme_dup, &net, &dnet, enzyme_const, X, enzyme_const,
                    labels, enzyme_const, batch);
#endif
  mlp_backprop(&net, X, labels, batch, &wnet);
  fd_gradient(loss_v, theta, NPARAM, &d, fd);

  const char *names[4] = {"W1", "b1", "W2", "b2"};
  const int offs[5] = {0, NHID * NIN, NHID * NIN + NHID, NHID * NIN + NHID + NOUT * NHID, NPARAM};
  for (int blk = 0; blk < 4; blk++) {
    double gmax = 0.0;
    for (int p = offs[blk]; p < offs[blk + 1]; p++) gmax = fmax(gmax, fabs(dtheta[p]));
    printf("  d%-2s: %3d entries, |grad|_max = %.6f, first = % .10f (FD % .10f)\n", names[blk],
           offs[blk + 1] - offs[blk], gmax, dtheta[offs[blk]], fd[offs[blk]]);
  }
  double e1 = fdc_check_all("grad vs FD", dtheta, fd, NPARAM, FDC_RTOL);
  double e2 = fdc_check_all("grad vs backprop", dtheta, want, NPARAM, FDC_RTOL_AN);
  printf("max rel. error: %.2e vs FD, %.2e vs hand-written backprop\n", e1, e2);

  /* one SGD step with the adcc gradient lowers the loss */
  double L0 = loss_v(theta, &d);
  for (int p = 0; p < NPARAM; p++) theta[p] -= 0.5 * dtheta[p];
  double L1 = loss_v(theta, &d);
  printf("loss after one gradient step: %.12f -> %.12f\n", L0, L1);
  fdc_check("loss decreases", 0, L1 < L0 ? 1.0 : 0.0, 1.0, 0.0);
  return fdc_report("nn_loss");
}
