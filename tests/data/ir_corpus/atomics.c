/* C11 atomics: atomicrmw, cmpxchg, fences, atomic loads/stores, float atomics. */
#include <stdatomic.h>
#include <stdbool.h>

_Atomic int counter;
_Atomic double total;
atomic_flag flag = ATOMIC_FLAG_INIT;

int bump(void) { return atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed); }
void add_double(double x) {
  double old = atomic_load(&total);
  while (!atomic_compare_exchange_weak(&total, &old, old + x)) {}
}
bool try_lock(void) { return !atomic_flag_test_and_set_explicit(&flag, memory_order_acquire); }
void unlock(void) { atomic_flag_clear_explicit(&flag, memory_order_release); }
void fence(void) { atomic_thread_fence(memory_order_seq_cst); atomic_signal_fence(memory_order_acq_rel); }
float fadd_atomic(float *p, float v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
long xchg(long *p, long v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
int cas_strong(int *p, int e, int d) { return __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED); }
unsigned max_atomic(unsigned *p, unsigned v) { return __atomic_fetch_max(p, v, __ATOMIC_RELAXED); }
__int128 load128(__int128 *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
int nand(int *p, int v) { return __atomic_nand_fetch(p, v, __ATOMIC_SEQ_CST); }
int sync_add(volatile int *p) { return __sync_fetch_and_add(p, 3) + __sync_val_compare_and_swap(p, 1, 2); }
