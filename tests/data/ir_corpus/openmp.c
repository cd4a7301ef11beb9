/* OpenMP outlining: parallel regions, reductions, tasks, simd, atomics (compiled with -fopenmp). */
// ir-corpus-flags: -fopenmp
double dot(const double *a, const double *b, int n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
void scale(double *a, int n, double k) {
#pragma omp simd
  for (int i = 0; i < n; i++) a[i] *= k;
}
int tasks(int n) {
  int total = 0;
#pragma omp parallel
#pragma omp single
  for (int i = 0; i < n; i++) {
#pragma omp task shared(total)
    {
#pragma omp atomic
      total += i;
    }
  }
  return total;
}
