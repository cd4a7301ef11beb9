double energy(const double *x, int n);
void energy_gradient(const double *x, double *grad, int n);
