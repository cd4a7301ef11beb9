/* adcc bridge: runs a kernel so that a crash in it (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
 * returns the signal number to the caller instead of ending the process. Included (static) in
 * every bridge library. Signals raised outside a guarded call are passed on to the handler that
 * was installed before (Python's faulthandler, the default action, ...). Each thread gets an
 * alternate signal stack on its first guarded call, so a stack overflow is caught too.
 * What a crash leaves behind (memory the kernel allocated, locks it held) is not recovered. */
#ifndef ADCC_BRIDGE_GUARD_H
#define ADCC_BRIDGE_GUARD_H
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ADCC_GUARD_SIGNAL_COUNT 5
static const int adcc_guard_signals[ADCC_GUARD_SIGNAL_COUNT] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction adcc_guard_previous[ADCC_GUARD_SIGNAL_COUNT];
static pthread_once_t adcc_guard_once = PTHREAD_ONCE_INIT;
static __thread sigjmp_buf *adcc_guard_env;
static __thread int adcc_guard_stack_ready;

static void adcc_guard_handler(int sig, siginfo_t *info, void *context) {
  sigjmp_buf *env = adcc_guard_env;
  if (env) {
    adcc_guard_env = 0;
    siglongjmp(*env, sig);
  }
  for (int i = 0; i < ADCC_GUARD_SIGNAL_COUNT; i++) {
    if (adcc_guard_signals[i] != sig) continue;
    struct sigaction *previous = &adcc_guard_previous[i];
    if (previous->sa_flags & SA_SIGINFO) {
      previous->sa_sigaction(sig, info, context);
    } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
      previous->sa_handler(sig);
    } else {
      sigaction(sig, previous, 0);
      raise(sig);
    }
    return;
  }
}

static void adcc_guard_install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = adcc_guard_handler;
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK; /* NODEFER: the mask needs no restoring */
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < ADCC_GUARD_SIGNAL_COUNT; i++)
    sigaction(adcc_guard_signals[i], &action, &adcc_guard_previous[i]);
}

static void adcc_guard_thread_stack(void) {
  stack_t current, fresh;
  adcc_guard_stack_ready = 1;
  if (sigaltstack(0, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  fresh.ss_size = 1 << 16;
  fresh.ss_sp = malloc(fresh.ss_size);
  fresh.ss_flags = 0;
  if (fresh.ss_sp) sigaltstack(&fresh, 0);
}

/* Runs body(context); 0 when it returned, else the number of the signal it raised. */
static int adcc_guard_run(void (*body)(void *), void *context) {
  sigjmp_buf env;
  sigjmp_buf *outer;
  int sig;
  pthread_once(&adcc_guard_once, adcc_guard_install);
  if (!adcc_guard_stack_ready) adcc_guard_thread_stack();
  outer = adcc_guard_env;
  sig = sigsetjmp(env, 0);
  if (sig != 0) {
    adcc_guard_env = outer;
    return sig;
  }
  adcc_guard_env = &env;
  body(context);
  adcc_guard_env = outer;
  return 0;
}
#endif
