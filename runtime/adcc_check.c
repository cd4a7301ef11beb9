/* adcc run-time derivative check. A checked call records its active inputs (scalars and the
 * floating-point slots of duplicated memory), forks an evaluator before the derivative runs
 * (so it sees the memory exactly as the derivative does), and the evaluator forks once more
 * per primal evaluation at x + t*d: nothing a primal evaluation writes (arguments, globals,
 * static state, stdio buffers) reaches the program, and each evaluation starts from the same
 * state. The program's own process only reads memory. Results come back through a shared
 * anonymous mapping; the comparison runs in the program's process after the derivative.
 *
 * Reverse mode: with seeds 1 (float result) and the output shadows' contents before the call,
 * the derivative computes the gradient of L(x) = result + sum(dx_before * x_after), so
 * <adjoints, d> (shadows after the call, which includes their += accumulation) must equal the
 * derivative of L along random directions d. Forward mode: the tangents given are the
 * direction, and random weightings w of the outputs (result, memory after) turn them into
 * scalar functionals: <w, tangents out> must equal the derivative of <w, outputs> along it.
 * Each comparison uses central differences at two steps (Richardson extrapolation), and calls
 * where they do not converge or where the primal is not differentiable along d (second
 * differences shrinking linearly, not quadratically) are counted as inconclusive, not failed. */
#define _GNU_SOURCE
#include "adcc_check.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- settings (ADCC_CHECK_*; read once) ------------------------------------------------- */

enum { CHECK_OFF = 0, CHECK_SAMPLED = 1, CHECK_ALL = 2, CHECK_VERBOSE = 3 };

static struct {
  int ready, mode, directions, timeout;
  double rtol;
} settings;

static int word_is(const char *s, const char *const *words) {
  for (; *words; words++)
    if (strcmp(s, *words) == 0) return 1;
  return 0;
}

static void read_settings(void) {
  if (__atomic_load_n(&settings.ready, __ATOMIC_ACQUIRE)) return;
  const char *v = getenv("ADCC_CHECK_DERIVATIVES");
  static const char *const off[] = {"0", "off", "no", "false", NULL};
  int mode = CHECK_SAMPLED;
  if (v && word_is(v, off)) mode = CHECK_OFF;
  else if (v && strcmp(v, "all") == 0) mode = CHECK_ALL;
  else if (v && strcmp(v, "verbose") == 0) mode = CHECK_VERBOSE;
  const char *d = getenv("ADCC_CHECK_DIRECTIONS");
  int dirs = d ? atoi(d) : 3;
  const char *r = getenv("ADCC_CHECK_TOLERANCE");
  double rtol = r ? strtod(r, NULL) : 0.0;
  const char *t = getenv("ADCC_CHECK_TIMEOUT");
  int timeout = t ? atoi(t) : 60;
  settings.mode = mode;
  settings.directions = dirs < 1 ? 1 : dirs > 64 ? 64 : dirs;
  settings.rtol = rtol > 0 && rtol < 1 ? rtol : 0.0;
  settings.timeout = timeout > 0 ? timeout : 60;
  __atomic_store_n(&settings.ready, 1, __ATOMIC_RELEASE);
}

/* ---- sites and the summary at exit ------------------------------------------------------ */

enum { SITE_REGISTERED = 1, SITE_NOTED = 2 };

static adcc_check_site registry_end;
static adcc_check_site *registry = &registry_end;

static void summary(void) {
  int64_t calls = 0, checked = 0, failed = 0, inconclusive = 0, skipped = 0;
  for (adcc_check_site *s = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); s != &registry_end; s = s->next) {
    calls += __atomic_load_n(&s->calls, __ATOMIC_RELAXED);
    checked += __atomic_load_n(&s->checked, __ATOMIC_RELAXED);
    failed += __atomic_load_n(&s->failed, __ATOMIC_RELAXED);
    inconclusive += __atomic_load_n(&s->inconclusive, __ATOMIC_RELAXED);
    skipped += __atomic_load_n(&s->skipped, __ATOMIC_RELAXED);
  }
  if (calls == 0) return;
  fprintf(stderr,
          "adcc: derivative check: %lld of %lld derivative calls checked: %lld passed, %lld failed, "
          "%lld inconclusive; %lld not checkable\n",
          (long long)checked, (long long)calls, (long long)(checked - failed - inconclusive), (long long)failed,
          (long long)inconclusive, (long long)skipped);
  fflush(stderr);
}

static void register_site(adcc_check_site *site) {
  if (__atomic_fetch_or(&site->flags, SITE_REGISTERED, __ATOMIC_ACQ_REL) & SITE_REGISTERED) return;
  adcc_check_site *head = __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
  do site->next = head;
  while (!__atomic_compare_exchange_n(&registry, &head, site, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
  if (head == &registry_end) atexit(summary);
}

static int same_call(const adcc_check_site *a, const adcc_check_site *b) {
  return strcmp(a->where, b->where) == 0 && strcmp(a->function, b->function) == 0;
}

/* The first reason a call's checks are skipped is printed once (per source line: optimization
 * may have copied a call site). */
static void note_skip(adcc_check_site *site, const char *reason) {
  __atomic_add_fetch(&site->skipped, 1, __ATOMIC_RELAXED);
  if (__atomic_fetch_or(&site->flags, SITE_NOTED, __ATOMIC_ACQ_REL) & SITE_NOTED) return;
  for (adcc_check_site *s = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); s != &registry_end; s = s->next)
    if (s != site && (__atomic_load_n(&s->flags, __ATOMIC_ACQUIRE) & SITE_NOTED) && same_call(s, site)) return;
  fprintf(stderr, "%s: derivative check skipped for %s: %s\n", site->where, site->function, reason);
  fflush(stderr);
}

/* ---- one checked call -------------------------------------------------------------------- */

typedef struct {
  double value;
  int kind;
  double *tangents; /* forward mode: width of them */
} scalar_input;

typedef struct {
  char *primal;
  int64_t nbytes;
  const int32_t *layout;
  void **shadows; /* width of them (reverse mode: one) */
  int64_t first, count; /* global index of its first slot, number of slots */
} region_input;

enum { POINT_DONE = 1 };

struct adcc_check {
  adcc_check_site *site;
  int mode, width, ret_kind, nscalars, nregions, ns, nr;
  scalar_input *scalars;
  region_input *regions;
  const char *skip;           /* why this call is not checked (found at run time) */
  int single;                 /* some value is single precision */
  int ndirs, nfuncs, npoints; /* directions, output functionals, evaluation points */
  int64_t nslots;             /* slots of all regions */
  uint64_t seed;
  double *x;                  /* inputs before the call: scalars, then slots */
  double *steps;              /* per direction: t (0: nothing to check along it) */
  double *results;            /* from the derivative */
  double *shared;             /* [point][functional][F, A], then [point] status */
  size_t shared_bytes;
  pid_t evaluator;
  adcc_check_eval eval;
  void *frame;
  double *point;              /* scalar values of the evaluation in progress */
};

static uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A reproducible pseudo-random number in [-1, 1) for (stream, k, index). */
static double unit(uint64_t seed, uint64_t stream, uint64_t k, uint64_t index) {
  uint64_t z = mix(seed ^ mix((stream << 56) ^ (k << 40) ^ index));
  return (double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static double load_slot(const char *p, int kind) {
  if (kind == ADCC_CHECK_FLOAT) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
  }
  double d;
  memcpy(&d, p, sizeof d);
  return d;
}

static void store_slot(char *p, int kind, double v) {
  if (kind == ADCC_CHECK_FLOAT) {
    float f = (float)v;
    memcpy(p, &f, sizeof f);
  } else {
    memcpy(p, &v, sizeof v);
  }
}

static int64_t kind_size(int kind) { return kind == ADCC_CHECK_FLOAT ? 4 : 8; }

/* Iterates the floating-point slots of a region: byte offset and kind. */
typedef struct {
  const int32_t *layout;
  int64_t nbytes, base;
  int32_t i;
} slot_iter;

static slot_iter slots_of(const region_input *r) {
  slot_iter it = {r->layout, r->nbytes, 0, 0};
  return it;
}

static int next_slot(slot_iter *it, int64_t *offset, int *kind) {
  int32_t period = it->layout[0], count = it->layout[1];
  for (;;) {
    if (it->i == count) {
      if (period <= 0) return 0;
      it->i = 0;
      it->base += period;
    }
    if (period > 0 && it->base >= it->nbytes) return 0;
    int64_t off = it->base + it->layout[2 + 2 * it->i];
    int k = it->layout[3 + 2 * it->i];
    it->i++;
    if (it->nbytes >= 0 && off + kind_size(k) > it->nbytes) continue;
    *offset = off;
    *kind = k;
    return 1;
  }
}

static int64_t count_slots(const region_input *r) {
  int64_t off, count = 0;
  int kind;
  for (slot_iter it = slots_of(r); next_slot(&it, &off, &kind);) count++;
  return count;
}

static double scale_of(double x) { return x != 0 && isfinite(x) ? fabs(x) : 1.0; }

adcc_check *adcc_check_begin(adcc_check_site *site, int32_t nscalars, int32_t nregions, int32_t ret_kind) {
  read_settings();
  if (settings.mode == CHECK_OFF) return NULL;
  register_site(site);
  int64_t n = __atomic_add_fetch(&site->calls, 1, __ATOMIC_RELAXED);
  if (site->unchecked) {
    note_skip(site, site->unchecked);
    return NULL;
  }
  if (settings.mode == CHECK_SAMPLED && n > 8 && (n & (n - 1)) != 0) return NULL;
  adcc_check *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->site = site;
  c->mode = site->mode;
  c->width = site->width > 0 ? site->width : 1;
  c->ret_kind = ret_kind;
  c->nscalars = nscalars;
  c->nregions = nregions;
  c->scalars = calloc((size_t)nscalars + 1, sizeof *c->scalars);
  c->regions = calloc((size_t)nregions + 1, sizeof *c->regions);
  c->evaluator = -1;
  static uint64_t calls_seen;
  c->seed = mix(0x6164636300000000ull + __atomic_add_fetch(&calls_seen, 1, __ATOMIC_RELAXED));
  if (!c->scalars || !c->regions) c->skip = "out of memory";
  if (ret_kind == ADCC_CHECK_FLOAT) c->single = 1;
  return c;
}

void adcc_check_scalar(adcc_check *c, double value, int32_t kind, const double *tangents) {
  if (c->skip || c->ns >= c->nscalars) return;
  scalar_input *s = &c->scalars[c->ns++];
  s->value = value;
  s->kind = kind;
  if (kind == ADCC_CHECK_FLOAT) c->single = 1;
  if (c->mode == ADCC_CHECK_FORWARD) {
    s->tangents = malloc((size_t)c->width * sizeof(double));
    if (!s->tangents) c->skip = "out of memory";
    else memcpy(s->tangents, tangents, (size_t)c->width * sizeof(double));
  }
}

void adcc_check_region(adcc_check *c, void *primal, int64_t nbytes, const int32_t *layout, void *const *shadows) {
  if (c->skip || c->nr >= c->nregions) return;
  region_input *r = &c->regions[c->nr++];
  r->primal = primal;
  r->nbytes = nbytes;
  r->layout = layout;
  int lanes = c->mode == ADCC_CHECK_FORWARD ? c->width : 1;
  r->shadows = malloc((size_t)lanes * sizeof(void *));
  if (!r->shadows) {
    c->skip = "out of memory";
    return;
  }
  memcpy(r->shadows, shadows, (size_t)lanes * sizeof(void *));
  if (layout[0] > 0 && nbytes < 0) {
    c->skip = "the size of a duplicated argument's memory is not known at the call";
    return;
  }
  for (int32_t i = 0; i < layout[1]; i++)
    if (layout[3 + 2 * i] == ADCC_CHECK_FLOAT) c->single = 1;
  int64_t count = r->count = count_slots(r);
  if (count && !primal) c->skip = "a duplicated argument is a null pointer";
  for (int w = 0; w < lanes && !c->skip; w++)
    if (count && (!shadows[w] || shadows[w] == primal)) c->skip = "a shadow is null or the primal memory itself";
}

/* Byte range [lo, hi) a region's slots occupy, relative to `base`. */
static void extent(const region_input *r, const char *base, int64_t *lo, int64_t *hi) {
  int64_t off, first = -1, last = 0;
  int kind;
  for (slot_iter it = slots_of(r); next_slot(&it, &off, &kind);) {
    if (first < 0 || off < first) first = off;
    if (off + kind_size(kind) > last) last = off + kind_size(kind);
  }
  *lo = (int64_t)(uintptr_t)base + (first < 0 ? 0 : first);
  *hi = (int64_t)(uintptr_t)base + last;
}

/* f(x, x + n) with shadows dx, dx + n: each argument's size reaches to the end of the object,
 * so the first covers the second. Where the shadows are laid out as the primals, the first
 * ends where the second begins (every slot then belongs to one region, its adjoint to one
 * shadow slot); other overlaps are not checkable. */
static void separate_regions(adcc_check *c) {
  int lanes = c->mode == ADCC_CHECK_FORWARD ? c->width : 1;
  for (int i = 0; i < c->nr; i++)
    for (int j = 0; j < c->nr; j++) {
      region_input *a = &c->regions[i], *b = &c->regions[j];
      int64_t gap = (int64_t)((uintptr_t)b->primal - (uintptr_t)a->primal);
      if (i == j || a->layout[0] <= 0 || gap <= 0 || gap >= a->nbytes || gap % a->layout[0] != 0 ||
          memcmp(a->layout, b->layout, 4 * sizeof(int32_t)) != 0 || a->layout[1] != 1)
        continue;
      int same = 1;
      for (int w = 0; w < lanes; w++) same &= (int64_t)((uintptr_t)b->shadows[w] - (uintptr_t)a->shadows[w]) == gap;
      if (same) {
        a->nbytes = gap;
        a->count = count_slots(a);
      }
    }
}

static const char *overlapping(adcc_check *c) {
  int lanes = c->mode == ADCC_CHECK_FORWARD ? c->width : 1;
  int n = c->nr * (1 + lanes);
  int64_t(*iv)[2] = malloc((size_t)(n ? n : 1) * sizeof *iv);
  if (!iv) return "out of memory";
  int k = 0;
  for (int i = 0; i < c->nr; i++) {
    if (!c->regions[i].count) continue;
    extent(&c->regions[i], c->regions[i].primal, &iv[k][0], &iv[k][1]);
    k++;
    for (int w = 0; w < lanes; w++, k++) extent(&c->regions[i], c->regions[i].shadows[w], &iv[k][0], &iv[k][1]);
  }
  const char *why = NULL;
  for (int i = 0; i < k && !why; i++)
    for (int j = i + 1; j < k && !why; j++)
      if (iv[i][0] < iv[j][1] && iv[j][0] < iv[i][1]) why = "duplicated arguments (or their shadows) overlap";
  free(iv);
  return why;
}

/* Component `index` (scalars first, then slots) of direction j; for a slot, `g` is its region
 * and `off` its offset (forward mode reads lane j's shadow in the calling process's memory). */
static double direction(const adcc_check *c, int j, int64_t index, const region_input *g, int64_t off, int kind) {
  if (c->mode == ADCC_CHECK_REVERSE) return unit(c->seed, 1, (uint64_t)j, (uint64_t)index) * scale_of(c->x[index]);
  double d = g ? load_slot((const char *)g->shadows[j] + off, kind) : c->scalars[index].tangents[j];
  return isfinite(d) ? d : 0.0; /* an uninitialized tangent of memory the primal overwrites */
}

static double step_precision(const adcc_check *c) { return c->single ? 2e-2 : 1e-3; }

/* The step along each direction: the largest relative change of any input is step_precision. */
static void choose_steps(adcc_check *c) {
  for (int j = 0; j < c->ndirs; j++) {
    double m = 0;
    for (int64_t i = 0; i < c->ns; i++) m = fmax(m, fabs(direction(c, j, i, NULL, 0, 0)) / scale_of(c->x[i]));
    for (int r = 0; r < c->nr; r++) {
      const region_input *g = &c->regions[r];
      int64_t off, index = g->first;
      int kind;
      for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++)
        m = fmax(m, fabs(direction(c, j, index, g, off, kind)) / scale_of(c->x[index]));
    }
    c->steps[j] = m > 0 && isfinite(m) ? step_precision(c) / m : 0.0;
  }
}

static double *point_result(const adcc_check *c, int p, int k) { return c->shared + ((size_t)p * c->nfuncs + k) * 2; }
static double *point_status(const adcc_check *c, int p) { return c->shared + (size_t)c->npoints * c->nfuncs * 2 + p; }

/* Point 0 is x; direction j has points 1 + 4j + {0: +t, 1: -t, 2: +t/2, 3: -t/2}. */
static void point_of(const adcc_check *c, int p, int *j, double *tau) {
  static const double factor[4] = {1.0, -1.0, 0.5, -0.5};
  if (p == 0) {
    *j = 0;
    *tau = 0;
    return;
  }
  *j = (p - 1) / 4;
  *tau = c->steps[*j] * factor[(p - 1) % 4];
}

/* Weight of output `index` (slots, then the result) in functional k. */
static double weight(const adcc_check *c, int k, int64_t index, const region_input *g, int64_t off, int kind) {
  if (c->mode == ADCC_CHECK_REVERSE)
    return g ? load_slot((const char *)g->shadows[0] + off, kind) : 1.0; /* seeds: shadows before, 1 */
  return unit(c->seed, 2, (uint64_t)k, (uint64_t)index);
}

/* In a forked copy: set the inputs to x + tau*d_j, run the primal, reduce its outputs. */
static void evaluate_point(adcc_check *c, int p) {
  int j;
  double tau;
  point_of(c, p, &j, &tau);
  for (int i = 0; i < c->ns; i++) c->point[i] = c->x[i] + (tau != 0 ? tau * direction(c, j, i, NULL, 0, 0) : 0);
  for (int r = 0; r < c->nr && tau != 0; r++) {
    const region_input *g = &c->regions[r];
    int64_t off, index = g->first;
    int kind;
    for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++)
      store_slot(g->primal + off, kind, c->x[index] + tau * direction(c, j, index, g, off, kind));
  }
  double ret = c->eval(c, c->frame);
  for (int k = 0; k < c->nfuncs; k++) {
    double f = 0, a = 0;
    if (c->ret_kind != ADCC_CHECK_NONE) {
      double t = weight(c, k, c->ns + c->nslots, NULL, 0, 0) * ret;
      f += t;
      a += fabs(t);
    }
    for (int r = 0; r < c->nr; r++) {
      region_input *g = &c->regions[r];
      int64_t off, index = g->first;
      int kind;
      for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++) {
        double t = weight(c, k, index, g, off, kind) * load_slot(g->primal + off, kind);
        f += t;
        a += fabs(t);
      }
    }
    point_result(c, p, k)[0] = f;
    point_result(c, p, k)[1] = a;
  }
  *point_status(c, p) = POINT_DONE;
}

static void quiet_child(void) {
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  signal(SIGCHLD, SIG_DFL);
  signal(SIGALRM, SIG_DFL);
}

static void wait_for(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

/* The evaluator: one fresh copy of itself per point, so every evaluation starts from the
 * memory the derivative started from. */
static void run_evaluator(adcc_check *c) {
  quiet_child();
  for (int p = 0; p < c->npoints; p++) {
    int j;
    double tau;
    point_of(c, p, &j, &tau);
    if (p > 0 && c->steps[j] == 0) continue;
    pid_t pid = fork();
    if (pid == 0) {
      alarm((unsigned)settings.timeout);
      evaluate_point(c, p);
      _exit(0);
    }
    if (pid > 0) wait_for(pid);
  }
}

void adcc_check_start(adcc_check *c, adcc_check_eval eval, void *frame) {
  c->eval = eval;
  c->frame = frame;
  if (c->skip) return;
  if (c->ns != c->nscalars || c->nr != c->nregions) {
    c->skip = "adcc bug: the call site described fewer values than it declared";
    return;
  }
  separate_regions(c);
  int64_t nslots = 0;
  for (int r = 0; r < c->nr; r++) {
    c->regions[r].first = c->ns + nslots;
    nslots += c->regions[r].count;
  }
  c->nslots = nslots;
  if ((c->skip = overlapping(c))) return;
  c->ndirs = c->mode == ADCC_CHECK_REVERSE ? settings.directions : c->width;
  c->nfuncs = c->mode == ADCC_CHECK_REVERSE ? 1 : settings.directions;
  c->npoints = 1 + 4 * c->ndirs;
  c->x = malloc((size_t)(c->ns + nslots + 1) * sizeof(double));
  c->point = malloc((size_t)(c->ns + 1) * sizeof(double));
  c->steps = calloc((size_t)c->ndirs, sizeof(double));
  int nresults = c->mode == ADCC_CHECK_REVERSE ? c->ns : c->width;
  c->results = calloc((size_t)nresults + 1, sizeof(double));
  if (!c->x || !c->point || !c->steps || !c->results) {
    c->skip = "out of memory";
    return;
  }
  for (int i = 0; i < c->ns; i++) c->x[i] = c->scalars[i].value;
  for (int r = 0; r < c->nr; r++) {
    region_input *g = &c->regions[r];
    int64_t off, index = g->first;
    int kind;
    for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++) c->x[index] = load_slot(g->primal + off, kind);
  }
  choose_steps(c);
  c->shared_bytes = ((size_t)c->npoints * c->nfuncs * 2 + (size_t)c->npoints) * sizeof(double);
  void *m = mmap(NULL, c->shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    c->skip = "cannot map memory for the evaluations";
    return;
  }
  c->shared = m;
  fflush(NULL); /* nothing buffered may be written twice by a child */
  pid_t pid = fork();
  if (pid == 0) {
    run_evaluator(c);
    _exit(0);
  }
  if (pid < 0) c->skip = "cannot fork the evaluating process";
  c->evaluator = pid;
}

void adcc_check_result(adcc_check *c, int32_t index, double value) {
  int n = c->mode == ADCC_CHECK_REVERSE ? c->ns : c->width;
  if (c->results && index >= 0 && index < n) c->results[index] = value;
}

double adcc_check_point(adcc_check *c, int32_t index) { return c->point[index]; }

/* adcc's directional derivative of functional k along direction j, from the memory after the
 * derivative call and the values it returned. */
static double derivative_value(const adcc_check *c, int j, int k) {
  double sum = 0;
  if (c->mode == ADCC_CHECK_REVERSE) {
    for (int i = 0; i < c->ns; i++) sum += direction(c, j, i, NULL, 0, 0) * c->results[i];
    for (int r = 0; r < c->nr; r++) {
      const region_input *g = &c->regions[r];
      int64_t off, index = g->first;
      int kind;
      for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++)
        sum += direction(c, j, index, g, off, kind) * load_slot((const char *)g->shadows[0] + off, kind);
    }
    return sum;
  }
  if (c->ret_kind != ADCC_CHECK_NONE) sum += weight(c, k, c->ns + c->nslots, NULL, 0, 0) * c->results[j];
  for (int r = 0; r < c->nr; r++) {
    const region_input *g = &c->regions[r];
    int64_t off, index = g->first;
    int kind;
    for (slot_iter it = slots_of(g); next_slot(&it, &off, &kind); index++)
      sum += weight(c, k, index, g, off, kind) * load_slot((const char *)g->shadows[j] + off, kind);
  }
  return sum;
}

enum verdict { PASSED, FAILED, INCONCLUSIVE, NOTHING };

typedef struct {
  enum verdict verdict;
  double error, adcc, fd;
} comparison;

static comparison compare(const adcc_check *c, int j, int k) {
  comparison out = {INCONCLUSIVE, 0, 0, 0};
  double t = c->steps[j];
  if (t == 0) {
    out.verdict = NOTHING;
    return out;
  }
  int base = 1 + 4 * j;
  double f[5], a = 0;
  int ps[5] = {0, base, base + 1, base + 2, base + 3};
  for (int i = 0; i < 5; i++) {
    if (*point_status(c, ps[i]) != POINT_DONE) return out; /* the primal failed or timed out */
    f[i] = point_result(c, ps[i], k)[0];
    a = fmax(a, point_result(c, ps[i], k)[1]);
  }
  double d1 = (f[1] - f[2]) / (2 * t), d2 = (f[3] - f[4]) / t;
  double fd = (4 * d2 - d1) / 3, ad = derivative_value(c, j, k);
  out.adcc = ad;
  out.fd = fd;
  if (!isfinite(fd) || !isfinite(ad) || !isfinite(a)) {
    if (isfinite(fd) && fabs(d2 - d1) <= 0.01 * fabs(fd)) {
      out.verdict = FAILED; /* adcc's value is not finite where the primal is smooth */
      out.error = INFINITY;
    }
    return out;
  }
  double eps = c->single ? 1.2e-7 : 2.3e-16;
  double noise = 8 * eps * a / t;
  double s1 = f[1] - 2 * f[0] + f[2], s2 = f[3] - 2 * f[0] + f[4];
  if (fabs(s2) > 64 * eps * a && fabs(s1) < 3 * fabs(s2)) return out; /* a kink along d near x */
  double scale = fmax(fabs(ad), fabs(fd)), correction = fabs(d2 - d1);
  double rtol = settings.rtol > 0 ? settings.rtol : c->single ? 1e-3 : 1e-6;
  double allowed = rtol * scale + 2 * correction + noise;
  out.error = scale > 0 ? fabs(ad - fd) / scale : 0;
  if (fabs(ad - fd) <= allowed || fabs(ad - d2) <= allowed) {
    out.verdict = correction + noise > 0.25 * scale && scale > 0 ? INCONCLUSIVE : PASSED;
    return out;
  }
  out.verdict = correction + noise > 0.25 * scale ? INCONCLUSIVE : FAILED;
  return out;
}

static void release(adcc_check *c) {
  if (c->shared) munmap(c->shared, c->shared_bytes);
  for (int i = 0; i < c->ns; i++) free(c->scalars[i].tangents);
  for (int r = 0; r < c->nr; r++) free(c->regions[r].shadows);
  free(c->scalars);
  free(c->regions);
  free(c->x);
  free(c->point);
  free(c->steps);
  free(c->results);
  free(c);
}

void adcc_check_finish(adcc_check *c) {
  adcc_check_site *site = c->site;
  if (c->evaluator > 0) wait_for(c->evaluator);
  if (c->skip) {
    note_skip(site, c->skip);
    release(c);
    return;
  }
  comparison worst = {NOTHING, 0, 0, 0}, best = {NOTHING, 0, 0, 0};
  for (int j = 0; j < c->ndirs; j++)
    for (int k = 0; k < c->nfuncs; k++) {
      comparison r = compare(c, j, k);
      if (r.verdict == FAILED && (worst.verdict != FAILED || r.error > worst.error)) worst = r;
      if (r.verdict < best.verdict) best = r;
    }
  enum verdict v = worst.verdict == FAILED ? FAILED : best.verdict == PASSED ? PASSED : INCONCLUSIVE;
  __atomic_add_fetch(&site->checked, 1, __ATOMIC_RELAXED);
  if (v == INCONCLUSIVE) __atomic_add_fetch(&site->inconclusive, 1, __ATOMIC_RELAXED);
  if (v == FAILED) {
    int64_t n = __atomic_add_fetch(&site->failed, 1, __ATOMIC_RELAXED);
    if (n <= 3 || settings.mode == CHECK_VERBOSE) {
      fprintf(stderr, "%s: derivative check failed for %s: relative error %.2g\n", site->where, site->function,
              worst.error);
      fprintf(stderr, "%s: note: %s mode along a random direction: adcc %.17g, central finite differences %.17g\n",
              site->where, c->mode == ADCC_CHECK_REVERSE ? "reverse" : "forward", worst.adcc, worst.fd);
      fflush(stderr);
    }
  } else if (settings.mode == CHECK_VERBOSE && v == PASSED) {
    fprintf(stderr, "%s: derivative check passed for %s: relative error %.2g\n", site->where, site->function,
            best.error);
    fflush(stderr);
  } else if (settings.mode == CHECK_VERBOSE) {
    fprintf(stderr, "%s: derivative check inconclusive for %s: finite differences do not converge, or the "
            "function is not differentiable here\n", site->where, site->function);
    fflush(stderr);
  }
  release(c);
}
