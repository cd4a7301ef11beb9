// Split forward mode (__enzyme_fwdsplit) in C++: a template over a std::vector (heap memory the
// callee allocates, grows and frees), a member function called through a reference, virtual calls
// (dispatched in the tangent pass as in the recorded run, even after the objects change type),
// and the tape kept by the caller between the halves while the input vector is changed. Checked against
// central finite differences and the hand-written tangent.
#include "../e2e.h"

#include <cmath>
#include <vector>

extern "C" {
extern int enzyme_dup, enzyme_const, enzyme_nofree;
void *__enzyme_augmentfwd(void *, ...);
double __enzyme_fwdsplit(void *, ...);
void adcc_split_tape_free(void *tape);
long adcc_split_tape_live_count(void);
}

struct Poly {
  double c0, c1, c2;
  double at(double x) const { return c0 + x * (c1 + x * c2); }
  double slope(double x) const { return c1 + 2.0 * x * c2; }
};

// sum over the running products of p(x_i); the buffer grows by push_back
template <typename P>
static double running(const P &p, const double *x, int n) {
  std::vector<double> acc;
  double r = 1.0;
  for (int i = 0; i < n; i++) {
    r = 0.5 * r + p.at(x[i]);
    acc.push_back(r * r);
  }
  double s = 0.0;
  for (double v : acc) s += v;
  return s;
}

static double running_dot(const Poly &p, const double *x, const double *dx, int n) {
  double r = 1.0, dr = 0.0, ds = 0.0;
  for (int i = 0; i < n; i++) {
    dr = 0.5 * dr + p.slope(x[i]) * dx[i];
    r = 0.5 * r + p.at(x[i]);
    ds += 2.0 * r * dr;
  }
  return ds;
}

static Poly P = {0.2, -0.7, 0.35};

struct Term {
  virtual double eval(const double *x) const = 0;
  virtual double dot(const double *x, const double *dx) const = 0;
  virtual ~Term() {}
};
struct Square : Term {
  double eval(const double *x) const override { return x[0] * x[1]; }
  double dot(const double *x, const double *dx) const override { return dx[0] * x[1] + x[0] * dx[1]; }
};
struct Wave : Term {
  double eval(const double *x) const override { return std::sin(x[0]) * x[2]; }
  double dot(const double *x, const double *dx) const override {
    return std::cos(x[0]) * dx[0] * x[2] + std::sin(x[0]) * dx[2];
  }
};
static double terms(Term *const *t, int k, const double *x) {
  double s = 0.0;
  for (int i = 0; i < k; i++) s += t[i]->eval(x + i);
  return s;
}
static double terms_v(double *x, void *ctx) { return terms((Term *const *)ctx, 3, x); }
static double running_v(double *x, void *ctx) { return running(P, x, *(int *)ctx); }

int main() {
  e2e_begin("cpp/fwdsplit");
  const int n = 7;
  std::vector<double> x(n), dx(n), x0(n);
  for (int i = 0; i < n; i++) {
    x0[i] = x[i] = 0.3 * i - 0.8;
    dx[i] = 1.0 - 0.25 * i;
  }
  double (*f)(const Poly &, const double *, int) = running<Poly>;
  int m = n;
#ifdef ADCC_SELFTEST
  double d = running_dot(P, x.data(), dx.data(), n);
  double d2 = running_dot(P, x.data(), x0.data(), n);
#else
  void *tape = __enzyme_augmentfwd((void *)f, enzyme_const, &P, enzyme_dup, x.data(), (double *)nullptr,
                                   enzyme_const, n);
  for (double &v : x) v = -5.0;  // changed between the halves: the tangent uses the recorded values
  double d = __enzyme_fwdsplit((void *)f, enzyme_nofree, enzyme_const, &P, enzyme_dup, (double *)nullptr,
                               dx.data(), enzyme_const, n, tape);
  double d2 = __enzyme_fwdsplit((void *)f, enzyme_nofree, enzyme_const, &P, enzyme_dup, (double *)nullptr,
                                x0.data(), enzyme_const, n, tape);
  adcc_split_tape_free(tape);
  check_val("tapes released", 0, (double)adcc_split_tape_live_count(), 0.0);
#endif
  check_an("running", 0, d, running_dot(P, x0.data(), dx.data(), n));
  check_fd("running", 0, d, fd_dir(running_v, x0.data(), dx.data(), n, &m));
  check_an("running along x0", 0, d2, running_dot(P, x0.data(), x0.data(), n));

  Square sq;
  Wave wv;
  Term *ts[3] = {&wv, &sq, &wv};
  double dv = 0.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < 3; i++) dv += ts[i]->dot(x0.data() + i, dx.data() + i);
#else
  std::vector<double> xv(x0);
  void *tv = __enzyme_augmentfwd((void *)terms, enzyme_const, ts, enzyme_const, 3, enzyme_dup, xv.data(),
                                 (double *)nullptr);
  Term *swapped[3] = {&sq, &wv, &sq};  // other objects now: the tangent follows the recorded dispatch
  dv = __enzyme_fwdsplit((void *)terms, enzyme_const, swapped, enzyme_const, 3, enzyme_dup, (double *)nullptr,
                         dx.data(), tv);
#endif
  double dv_want = 0.0;
  for (int i = 0; i < 3; i++) dv_want += ts[i]->dot(x0.data() + i, dx.data() + i);
  check_an("virtual", 0, dv, dv_want);
  check_fd("virtual", 0, dv, fd_dir(terms_v, x0.data(), dx.data(), 5, ts));
  return e2e_finish();
}
