/* Inline assembly: cpuid (as Eigen does), constraints, clobbers, goto, intel dialect. */
// ir-corpus: -O2 -fsanitize=address
#include <stdint.h>

void cpuid(int out[4], int leaf, int sub) {
  __asm__ __volatile__("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(sub));
}
uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
double asm_add(double a, double b) { __asm__("addsd %1, %0" : "+x"(a) : "x"(b)); return a; }
void barrier(void) { __asm__ __volatile__("" ::: "memory"); }
int add_intel(int a, int b) { __asm__(".intel_syntax noprefix\n\tadd %0, %1\n\t.att_syntax prefix" : "+r"(a) : "r"(b)); return a; }
int asm_goto(int x) {
  __asm__ goto("testl %0, %0; jz %l1" : : "r"(x) : "cc" : zero);
  return 1;
zero:
  return 0;
}
int asm_goto_out(int x) {
  int y;
  __asm__ goto("movl %1, %0; testl %0, %0; jz %l2" : "=r"(y) : "r"(x) : "cc" : zero);
  return y;
zero:
  return -1;
}
unsigned popcnt_asm(unsigned x) { unsigned r; __asm__("popcntl %1, %0" : "=r"(r) : "rm"(x) : "cc"); return r; }
void pause_loop(volatile int *f) { while (!*f) __asm__ __volatile__("pause"); }
__asm__(".globl toplevel_sym\n toplevel_sym: ret\n");
double sin_user(double x) { return x - x * x * x / 6.0; }
