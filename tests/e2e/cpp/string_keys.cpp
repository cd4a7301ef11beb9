// Maps keyed by std::string in differentiated code, both modes: hashing the key (libstdc++'s
// out-of-line std::_Hash_bytes) and comparing keys (memcmp/bcmp) are integer work without a
// derivative. The map itself is passed with enzyme_dup and a shadow map holding the same keys
// (Enzyme's convention for containers): its values receive the adjoints / carry the tangents.
#include "../e2e.h"
#include <string>
#include <unordered_map>

extern "C" void __enzyme_autodiff(void *, ...);
extern "C" void __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef std::unordered_map<std::string, double> Dict;

/* vals["y"] = vals["x"]^2 * sin(vals["z"]); vals["x"] = 3 * vals["x"] (in place) */
static void update(Dict &vals) {
  double x = vals["x"], z = vals["z"];
  vals["y"] = x * x * std::sin(z);
  vals["x"] = 3 * x;
}

static double y_of(double x, double z) {
  Dict d;
  d["x"] = x;
  d["z"] = z;
  d["y"] = 0;
  update(d);
  return d["y"];
}
static double y_x(double x) { return y_of(x, -0.6); }
static double y_z(double z) { return y_of(1.3, z); }

static Dict make(double x, double z, double y) {
  Dict d;
  d["x"] = x;
  d["z"] = z;
  d["y"] = y;
  return d;
}

int main() {
  e2e_begin("cpp/string_keys");
  const double x = 1.3, z = -0.6;
  /* reverse: seed d(y) = 1, d(x_out) = 0.5 */
  Dict vals = make(x, z, 0), dvals = make(0, 0, 1.0);
  dvals["x"] = 0.5;
#ifdef ADCC_SELFTEST
  update(vals);
  dvals["z"] += x * x * std::cos(z);
  dvals["x"] = 2 * x * std::sin(z) + 3 * 0.5;
  dvals["y"] = 0;
#else
  __enzyme_autodiff((void *)update, enzyme_dup, &vals, &dvals);
#endif
  check_val("primal y", 0, vals["y"], x * x * std::sin(z));
  check_val("primal x", 0, vals["x"], 3 * x);
  check_an("reverse x", 0, dvals["x"], 2 * x * std::sin(z) + 1.5);
  check_fd("reverse x", 0, dvals["x"] - 1.5, fd1(y_x, x));
  check_an("reverse z", 0, dvals["z"], x * x * std::cos(z));
  check_fd("reverse z", 0, dvals["z"], fd1(y_z, z));
  check_an("reverse y", 0, dvals["y"], 0.0);
  /* forward: tangent (x, z) = (1, 0.25) */
  Dict fv = make(x, z, 0), tv = make(1.0, 0.25, 0);
#ifdef ADCC_SELFTEST
  update(fv);
  tv["y"] = 2 * x * std::sin(z) * 1.0 + x * x * std::cos(z) * 0.25;
  tv["x"] = 3.0;
#else
  __enzyme_fwddiff((void *)update, enzyme_dup, &fv, &tv);
#endif
  check_an("forward y", 0, tv["y"], 2 * x * std::sin(z) + x * x * std::cos(z) * 0.25);
  check_fd("forward y", 0, tv["y"], fd1(y_x, x) + 0.25 * fd1(y_z, z));
  check_an("forward x", 0, tv["x"], 3.0);
  return e2e_finish();
}
