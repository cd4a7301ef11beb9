/* Plain C corners: computed goto, VLAs, setjmp, varargs, bitfields, unions, TLS, aliases,
   constructors, packed structs, switch tables, musttail-able calls, builtins. */
// ir-corpus: -O2 -fsanitize=address
// ir-corpus: -O1 -fsanitize=undefined,thread -fno-sanitize-recover=all
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

struct bits { unsigned a : 3, b : 7; int c : 5; };
union pun { double d; uint64_t u; float f[2]; };
struct __attribute__((packed)) packed { char c; double d; int i; };
_Thread_local int tls_counter;
static jmp_buf env;
int weak_fn(int) __attribute__((weak));
int real_fn(int x) { return x + 1; }
int alias_fn(int) __attribute__((alias("real_fn")));
static int init_value;
__attribute__((constructor)) static void init(void) { init_value = 42; }
__attribute__((destructor)) static void fini(void) { init_value = 0; }

int dispatch(int op, int x) {
  static void *table[] = {&&add, &&sub, &&neg};
  goto *table[op % 3];
add: return x + 1;
sub: return x - 1;
neg: return -x;
}

double vla_sum(int n, double seed) {
  double v[n];
  for (int i = 0; i < n; i++) v[i] = seed * i;
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}

int jumpy(int x) {
  if (setjmp(env)) return -1;
  if (x < 0) longjmp(env, 1);
  return x;
}

double va_sum(int n, ...) {
  va_list ap, ap2;
  va_start(ap, n);
  va_copy(ap2, ap);
  double s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, double);
  va_end(ap);
  va_end(ap2);
  return s;
}

int bitfield(struct bits *b) { b->b += b->a; return b->c + b->b; }
double negate_bits(double d) { union pun p = {d}; p.u ^= 1ull << 63; return p.d; }
double packed_get(struct packed *p) { return p->d + p->i; }
int classify(int c) {
  switch (c) {
  case 0: case 5: return 10;
  case 1: return 20;
  case 2: return 7;
  case 3: return 99;
  case 100: return 1;
  default: return -1;
  }
}
int tls_bump(void) { return ++tls_counter + init_value; }
int weak_call(int x) { return weak_fn ? weak_fn(x) : x; }
double *grow(double *p, size_t n) { double *q = realloc(p, n * sizeof *q); if (!q) abort(); memset(q, 0, n * sizeof *q); return q; }
int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
void sort(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }
int builtins(unsigned x, long y) {
  int r = __builtin_popcount(x) + __builtin_clz(x | 1) + __builtin_ctzl(y | 1) + __builtin_parity(x);
  r += __builtin_bswap32(x) + __builtin_expect(x > 3, 1);
  __builtin_assume(y > 0);
  int ov;
  if (__builtin_add_overflow(x, (unsigned)y, &ov)) r++;
  return r + ov + __builtin_bitreverse8((unsigned char)x) + __builtin_rotateleft32(x, 3);
}
double fp_builtins(double x) {
  return __builtin_fabs(x) + __builtin_isnan(x) + __builtin_isinf(x) + __builtin_isfinite(x) + __builtin_signbit(x)
       + __builtin_fpclassify(0, 1, 2, 3, 4, x) + __builtin_nan("") * 0 + __builtin_huge_val() * 0
       + __builtin_canonicalize(x) + __builtin_isnormal(x);
}
void *aligned(size_t n) { void *p = __builtin_assume_aligned(aligned_alloc(64, n), 64); return p; }
void prefetch(const double *p) { __builtin_prefetch(p, 0, 3); }
_Noreturn void die(void) { __builtin_trap(); }
int unreachable_tail(int x) { if (x) return 1; __builtin_unreachable(); }
double frexp_modf(double x) { int e; double ip; return frexp(x, &e) + modf(x, &ip) + e + ip; }
double remquo_use(double x, double y) { int q; return remquo(x, y, &q) + q; }
void sincos_use(double x, double *s, double *c) { *s = sin(x); *c = cos(x); }
double stack_objects(double x) {
  double buf[64] __attribute__((aligned(64)));
  for (int i = 0; i < 64; i++) buf[i] = x * i;
  double *p = __builtin_alloca(8 * sizeof(double));
  for (int i = 0; i < 8; i++) p[i] = buf[i * 8];
  return p[3] + buf[5];
}
int musttail_target(int x);
int tail_caller(int x) { __attribute__((musttail)) return musttail_target(x + 1); }
int musttail_target(int x) { return x > 100 ? x : tail_caller(x * 2); }
