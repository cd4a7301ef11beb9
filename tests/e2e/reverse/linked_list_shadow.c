// Reverse mode on a caller-built linked list passed with enzyme_dup: the shadow list mirrors the
// primal (shadow node i's next is shadow node i+1) and the adjoints of the payloads accumulate
// into the shadow nodes (payload val and weight w, both doubles read through the dup pointer);
// the int tag field is inactive and the shadow next pointers are left as they were.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 6

struct node {
  int tag;
  double val;
  double w;
  struct node *next;
};

static double f(const struct node *head) {
  double s = 0.0, prev = 1.0;
  for (const struct node *p = head; p; p = p->next) {
    double t = (p->tag % 2) ? sin(p->val) : p->val * p->val;
    s += t * prev * p->w;
    prev = p->val;
  }
  return s;
}

static void df(const struct node *nodes, int n, double *g, double *gw) {
  double prev = 1.0;
  for (int i = 0; i < n; i++) {
    const struct node *p = &nodes[i];
    double t = (p->tag % 2) ? sin(p->val) : p->val * p->val;
    double dt = (p->tag % 2) ? cos(p->val) : 2.0 * p->val;
    g[i] += dt * prev * p->w;
    gw[i] += t * prev;
    if (i > 0) g[i - 1] += t * p->w;
    prev = p->val;
  }
}

static struct node *build(double *vals, int n) {
  struct node *nodes = (struct node *)calloc((size_t)n, sizeof(struct node));
  for (int i = 0; i < n; i++) {
    nodes[i].tag = i * 3 + 1;
    nodes[i].val = vals[i];
    nodes[i].w = vals[n + i];
    nodes[i].next = (i + 1 < n) ? &nodes[i + 1] : NULL;
  }
  return nodes;
}

static double fv(double *v, void *p) {
  (void)p;
  struct node *nodes = build(v, N);
  double r = f(nodes);
  free(nodes);
  return r;
}

int main(void) {
  e2e_begin("reverse/linked_list_shadow");
  volatile int vn = N;
  int n = vn;
  double vals[2 * N], want[2 * N]; /* [val | w] */
  for (int i = 0; i < N; i++) {
    vals[i] = 0.9 * cos(0.7 * i) + 0.2;
    vals[N + i] = 1.0 + 0.25 * i;
    want[i] = 0.3 * i; /* pre-existing shadow payload: gradients accumulate */
    want[N + i] = 0.0;
  }
  struct node *nodes = build(vals, n);
  struct node *shadow = (struct node *)calloc((size_t)n, sizeof(struct node));
  for (int i = 0; i < n; i++) {
    shadow[i].val = 0.3 * i;
    shadow[i].next = (i + 1 < n) ? &shadow[i + 1] : NULL; /* mirrors the primal */
  }
  df(nodes, n, want, want + N);
#ifdef ADCC_SELFTEST
  double g[N] = {0}, gw[N] = {0};
  df(nodes, n, g, gw);
  for (int i = 0; i < n; i++) {
    shadow[i].val += g[i];
    shadow[i].w += gw[i];
  }
#else
  __enzyme_autodiff((void *)f, enzyme_dup, nodes, shadow);
#endif
  for (int i = 0; i < N; i++) {
    check_an("shadow val", i, shadow[i].val, want[i]);
    check_fd("shadow val", i, shadow[i].val - 0.3 * i, fdv(fv, vals, i, 0));
    check_an("shadow w", i, shadow[i].w, want[N + i]);
    check_fd("shadow w", i, shadow[i].w, fdv(fv, vals, N + i, 0));
    check_val("shadow tag untouched", i, shadow[i].tag, 0.0);
    check_val("shadow next kept", i, (double)(shadow[i].next == ((i + 1 < N) ? &shadow[i + 1] : NULL)), 1.0);
  }
  free(nodes);
  free(shadow);
  return e2e_finish();
}
