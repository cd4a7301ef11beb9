"""The large translation unit of #16 item 16 and #17 point 5: `n` noinline functions (a short
loop with sin/cos and a branch each), summed by `total` and differentiated by `main`, which
prints PASS when the gradient matches central finite differences. Used by
tests/test_driver_faults.py::test_big_unit_compiles and bench/ad_compile_time.py."""


def big_unit_source(n: int) -> str:
    body = ["#include <math.h>", "#include <stdio.h>", "extern double __enzyme_autodiff(void *, ...);"]
    for i in range(n):
        body.append(f"__attribute__((noinline)) static double f{i}(double x) {{\n  double s = 0;\n"
                    f"  for (int k = 0; k < {i % 5 + 2}; k++) {{\n    if (x > {i % 3}.5) s += sin(x * k);\n"
                    f"    else s += cos(x + k);\n  }}\n  return s;\n}}")
    body.append("double total(double x) {\n  double s = 0;")
    body += [f"  s += f{i}(x);" for i in range(n)]
    body.append("  return s;\n}")
    body.append("int main(void) {\n  double x = 1.3, h = 1e-6, d = __enzyme_autodiff((void *)total, x);\n"
                "  double fd = (total(x + h) - total(x - h)) / (2 * h);\n"
                "  printf(\"%s\\n\", fabs(d - fd) < 1e-5 * (1 + fabs(fd)) ? \"PASS\" : \"FAIL\");\n  return 0;\n}")
    return "\n".join(body) + "\n"
