// __enzyme_virtualreverse: Enzyme's shadow of a vtable pointer, which a program stores into the
// shadow object of a C++ class with virtual methods (here the shadow of `func`). adcc
// differentiates the virtual call from the primal callee, so the shadow keeps a working vtable;
// reverse mode through virtual calls of two classes, in a loop.
#include "../e2e.h"

int enzyme_dup, enzyme_const, enzyme_out;
template <typename... T> double __enzyme_autodiff(void *, T...);
#ifdef ADCC_SELFTEST
template <typename T> T __enzyme_virtualreverse(T p) { return p; }
#else
template <typename T> T __enzyme_virtualreverse(T);
#endif

struct Function {
  virtual double operator()(double x) = 0;
  virtual ~Function() {}
};
struct Square : Function {
  double operator()(double x) override { return x * x; }
};
struct Cube : Function {
  double operator()(double x) override { return x * x * x; }
};

static double apply(double x, Function *func, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += x * (*func)(x + 0.5 * i);
  return s;
}

static Function *current;
static double fv(double *v, void *c) { (void)c; return apply(v[0], current, 3); }

int main() {
  e2e_begin("declarations/virtual_reverse");
  Function *sq = new Square(), *dsq = new Square(), *cu = new Cube(), *dcu = new Cube();
  *((void **)dsq) = __enzyme_virtualreverse(*(void **)dsq);
  *((void **)dcu) = __enzyme_virtualreverse(*(void **)dcu);
  for (int t = 0; t < 3; t++) {
    double x = 0.4 + 0.7 * t, ws = 0.0, wc = 0.0;
    for (int i = 0; i < 3; i++) {
      double y = x + 0.5 * i;
      ws += y * y + x * 2 * y;
      wc += y * y * y + x * 3 * y * y;
    }
#ifdef ADCC_SELFTEST
    double a = ws, b = wc;
#else
    double a = __enzyme_autodiff((void *)apply, x, enzyme_dup, sq, dsq, enzyme_const, 3);
    double b = __enzyme_autodiff((void *)apply, x, enzyme_dup, cu, dcu, enzyme_const, 3);
#endif
    double v[1] = {x};
    check_an("d/dx through Square", t, a, ws);
    current = sq;
    check_fd("d/dx through Square", t, a, fdv(fv, v, 0, 0));
    check_an("d/dx through Cube", t, b, wc);
    current = cu;
    check_fd("d/dx through Cube", t, b, fdv(fv, v, 0, 0));
  }
  delete sq, delete dsq, delete cu, delete dcu;
  return e2e_finish();
}
