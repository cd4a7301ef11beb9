/* A reduced LSTM objective in the shape of the one distributed with the Enzyme paper: the
 * hidden and cell state live in a scratch buffer `state` that the objective writes and reads
 * back. Passed as enzyme_const (the default build), the gradient of every main-layer weight
 * loses the part that flows through the state, and adcc warns; built with -DSTATE_DUP, `state`
 * gets a scratch shadow and the gradient matches central finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const;

enum { L = 2, H = 3, C = 4 };

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* one layer: weights w[4][H], biases b[4][H]; hidden and cell are updated in place */
static void lstm_model(const double *w, const double *b, double *hidden, double *cell, const double *input) {
  for (int i = 0; i < H; i++) {
    double forget = sigmoid(input[i] * w[i] + b[i]);
    double ingate = sigmoid(hidden[i] * w[H + i] + b[H + i]);
    double outgate = sigmoid(input[i] * w[2 * H + i] + b[2 * H + i]);
    double change = tanh(hidden[i] * w[3 * H + i] + b[3 * H + i]);
    cell[i] = cell[i] * forget + ingate * change;
    hidden[i] = outgate * tanh(cell[i]);
  }
}

static void lstm_predict(const double *main_params, const double *extra_params, double *state, const double *x,
                         double *out) {
  double input[H];
  for (int i = 0; i < H; i++) input[i] = x[i] * extra_params[i];
  const double *layer_in = input;
  for (int l = 0; l < L; l++) {
    double *hidden = state + 2 * l * H, *cell = hidden + H;
    lstm_model(main_params + 8 * l * H, main_params + 8 * l * H + 4 * H, hidden, cell, layer_in);
    layer_in = hidden;
  }
  for (int i = 0; i < H; i++) out[i] = layer_in[i] * extra_params[H + i] + extra_params[2 * H + i];
}

void lstm_objective(const double *main_params, const double *extra_params, double *state, const double *sequence,
                    double *loss) {
  double total = 0, pred[H];
  for (int t = 0; t < C - 1; t++) {
    lstm_predict(main_params, extra_params, state, sequence + t * H, pred);
    double lse = 0;
    for (int i = 0; i < H; i++) lse += exp(pred[i]);
    lse = log(lse);
    for (int i = 0; i < H; i++) total += sequence[(t + 1) * H + i] * (pred[i] - lse);
  }
  *loss = -total / ((C - 1) * H);
}

static double main_params[8 * L * H], extra_params[3 * H], state0[2 * L * H], sequence[C * H];

static double loss_at(const double *params) {
  double state[2 * L * H], loss;
  memcpy(state, state0, sizeof state);
  lstm_objective(params, extra_params, state, sequence, &loss);
  return loss;
}

int main(void) {
  for (int i = 0; i < 8 * L * H; i++) main_params[i] = 0.3 * sin(1.7 * i + 0.2);
  for (int i = 0; i < 3 * H; i++) extra_params[i] = 0.8 + 0.1 * cos(i);
  for (int i = 0; i < 2 * L * H; i++) state0[i] = 0.1 * i;
  for (int i = 0; i < C * H; i++) sequence[i] = 0.5 + 0.25 * sin(0.9 * i);
  double d_main[8 * L * H] = {0}, d_extra[3 * H] = {0}, state[2 * L * H], loss = 0, d_loss = 1;
  memcpy(state, state0, sizeof state);
#ifdef STATE_DUP
  double d_state[2 * L * H] = {0};
  __enzyme_autodiff((void *)lstm_objective, enzyme_dup, main_params, d_main, enzyme_dup, extra_params, d_extra,
                    enzyme_dup, state, d_state, enzyme_const, sequence, enzyme_dup, &loss, &d_loss);
#else
  __enzyme_autodiff((void *)lstm_objective, enzyme_dup, main_params, d_main, enzyme_dup, extra_params, d_extra,
                    enzyme_const, state, enzyme_const, sequence, enzyme_dup, &loss, &d_loss);
#endif
  double worst = 0, scale = 0, fds[8 * L * H];
  for (int i = 0; i < 8 * L * H; i++) {
    double p[8 * L * H];
    memcpy(p, main_params, sizeof p);
    double h = 1e-5 * (fabs(p[i]) + 1);
    p[i] += h;
    double up = loss_at(p);
    p[i] -= 2 * h;
    fds[i] = (up - loss_at(p)) / (2 * h);
    scale = fmax(scale, fabs(fds[i]));
  }
  for (int i = 0; i < 8 * L * H; i++) worst = fmax(worst, fabs(d_main[i] - fds[i]) / scale);
  printf("loss %.12f relative error of d main_params %.3g\n", loss, worst);
  return worst < 1e-6 ? 0 : 1;
}
