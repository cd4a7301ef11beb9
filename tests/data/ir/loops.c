double sum(const double *a, long n) {
  double s = 0;
  for (long i = 0; i < n; ++i) s += a[i];
  return s;
}
double const100(const double *a) {
  double s = 0;
  for (int i = 0; i < 100; ++i) s += a[i] * a[i];
  return s;
}
void nested(double *m, int rows, int cols) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      for (int k = 0; k < 4; ++k)
        m[(i * cols + j) * 4 + k] *= 2.0;
}
double search(const double *a, int n, double t) {
  int i = 0;
  while (i < n) {
    if (a[i] > t) break;
    ++i;
  }
  return i < n ? a[i] : 0.0;
}
void spin(volatile int *flag) {
  for (;;) { if (*flag) *flag = 0; }
}
double straight(double x) { return x * x + 1.0; }
