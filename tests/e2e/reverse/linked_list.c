// Reverse mode with a malloc'd linked list built inside f (push-front, double payloads derived
// from x), walked by pointer chasing twice, then freed. No activity markers (x dup, n const).
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);

#define N 7

struct node {
  double val;
  struct node *next;
};

static double f(const double *x, int n) {
  struct node *head = NULL;
  for (int i = 0; i < n; i++) {
    struct node *nd = (struct node *)malloc(sizeof *nd);
    nd->val = x[i] * x[i] + 0.5 * sin(x[i]);
    nd->next = head;
    head = nd;
  }
  double s = 0.0;
  for (struct node *p = head; p; p = p->next) /* visits x[n-1] .. x[0] */
    s = 0.8 * s + p->val;
  double q = 0.0;
  for (struct node *p = head; p && p->next; p = p->next) q += p->val * p->next->val;
  while (head) {
    struct node *nx = head->next;
    free(head);
    head = nx;
  }
  return s + 0.1 * q;
}

/* s = sum_i 0.8^i v_i (v_0 is the last visited); q = sum_{i>0} v_i v_{i-1}. */
static void df(const double *x, int n, double *g) {
  double v[N], dv[N] = {0};
  for (int i = 0; i < n; i++) v[i] = x[i] * x[i] + 0.5 * sin(x[i]);
  for (int i = 0; i < n; i++) dv[i] += pow(0.8, i);
  for (int i = 1; i < n; i++) {
    dv[i] += 0.1 * v[i - 1];
    dv[i - 1] += 0.1 * v[i];
  }
  for (int i = 0; i < n; i++) g[i] += dv[i] * (2.0 * x[i] + 0.5 * cos(x[i]));
}

static double fv(double *v, void *p) { (void)p; return f(v, N); }

int main(void) {
  e2e_begin("reverse/linked_list");
  volatile int vn = N;
  int n = vn;
  double x[N], dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; i++) x[i] = 1.2 * sin(0.9 * i + 0.3);
  df(x, n, want);
#ifdef ADCC_SELFTEST
  df(x, n, dx);
#else
  __enzyme_autodiff((void *)f, x, dx, n);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
