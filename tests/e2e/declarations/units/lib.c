/* Functions whose rules are registered in other units; their bodies are deliberately wrong:
   only the rules give the right derivatives. */
void ext_square(const double *x, double *y) { *y = *x; }
double ext_cubic(double x) { return 0.0 * x; }
