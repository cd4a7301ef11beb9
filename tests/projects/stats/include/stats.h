/* stats: a tiny static library used to test real builds through adcc (no AD). */
#ifndef STATS_H
#define STATS_H
#ifdef __cplusplus
extern "C" {
#endif
double stats_mean(const double *x, int n);
double stats_variance(const double *x, int n);
double stats_poly(const double *coef, int degree, double x);
#ifdef __cplusplus
}
#endif
#endif
