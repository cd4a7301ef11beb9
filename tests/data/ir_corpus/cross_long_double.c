/* Compiled for other targets too: long double is ppc_fp128 (0xM) on powerpc64, fp128 (0xL) on aarch64. */
// ir-corpus: -O0 --target=powerpc64le-linux-gnu
// ir-corpus: -O2 --target=powerpc64-linux-gnu
// ir-corpus: -O2 --target=aarch64-linux-gnu
// ir-corpus: -O2 --target=riscv64-linux-gnu
long double ld_poly(long double x) { return x * x * 0.3L + 1.0L / 3.0L; }
long double ld_lib(long double x) { return __builtin_logl(x) + __builtin_fmal(x, x, 0.5L) + __builtin_sqrtl(x); }
#ifdef __FLT16_MAX__
_Float16 half_twice(_Float16 x) { return x * (_Float16)2.5f; }
#endif
double ld_narrow(long double x) { return (double)x; }
