/* GCC/clang vector extensions, shuffles, masked ops, reductions. */
// ir-corpus: -O3 -march=x86-64-v4
// ir-corpus: -O2 -march=x86-64-v3 -ffast-math
typedef double v2d __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef int v4i __attribute__((vector_size(16)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef _Bool b8 __attribute__((ext_vector_type(8)));

v2d v2_fma(v2d a, v2d b, v2d c) { return a * b + c; }
v8f v8_shuffle(v8f a, v8f b) { return __builtin_shufflevector(a, b, 0, 9, 2, 11, 4, 13, 6, 15); }
v4i v4_cmp(v4i a, v4i b) { return a < b; }
f4 f4_swizzle(f4 a) { return a.wzyx * a.xxyy + (f4){1, 2, 3, 4}; }
float f4_reduce(f4 a, v4i b) { return __builtin_reduce_add(b) + __builtin_reduce_max(a) + __builtin_reduce_min(a); }
f4 f4_elementwise(f4 a, f4 b) { return __builtin_elementwise_max(a, b) + __builtin_elementwise_sqrt(a) + __builtin_elementwise_abs(b); }
double dot(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }
void saxpy(float *restrict y, const float *restrict x, float a, int n) { for (int i = 0; i < n; i++) y[i] += a * x[i]; }
int count_pos(const float *x, int n) { int c = 0; for (int i = 0; i < n; i++) c += x[i] > 0; return c; }
void gather(double *out, const double *in, const int *idx, int n) { for (int i = 0; i < n; i++) out[i] = in[idx[i]]; }
f4 masked(f4 a, f4 b) { return __builtin_convertvector(a > b, f4) * a; }
v2d from_int(v4i x) { return __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1), v2d); }
