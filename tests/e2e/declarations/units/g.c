/* The differentiated function, in a unit without Enzyme calls. */
extern void ext_square(const double *x, double *y);
extern double ext_cubic(double x);
double g(double x) {
  double y;
  ext_square(&x, &y);
  return 3 * y + ext_cubic(x);
}
