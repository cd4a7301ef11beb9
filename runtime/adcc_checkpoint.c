/* adcc runtime: the driver of __enzyme_checkpoint_for (see adcc_checkpoint.h).
 *
 * The scheme's vtable, actions and regions have the layouts of adcc/include/enzyme/checkpoint.h
 * (mirrored here: the runtime is built without that header; tests/test_checkpoint_api.py checks
 * the two agree). Forward sweep: STORE, RESTORE and FORWARD as the scheme says, until FIRSTUTURN
 * (store slot -2, run the last step) or DONE (no steps). Reverse sweep: store slot -1 (the state
 * now), restore -2 and differentiate the last step, then follow the scheme, differentiating the
 * step of each UTURN, until DONE; restore slot -1 and finalize the scheme. */
#include "adcc_checkpoint.h"
#include "adcc_runtime.h"

#include <stdlib.h>
#include <string.h>

enum { STORE = 1, RESTORE = 2, FORWARD = 3, FIRSTUTURN = 4, UTURN = 5, DONE = 7 };

typedef struct {
  int32_t flag;
  int64_t iteration, startiteration, cpnum;
} action;

typedef struct {
  void *ptr;
  uint64_t bytes;
  uint32_t addrspace, flags;
  void *shadow;
  const void *callbacks;
} region;

typedef struct {
  uint32_t version;
  void *(*init)(void *data, int64_t nsteps, uint64_t snapshot_bytes);
  void (*next_action)(void *state, action *out);
  void (*store)(void *state, int64_t slot, int64_t step, const region *r, uint64_t nregions);
  void (*restore)(void *state, int64_t slot, int64_t step, const region *r, uint64_t nregions);
  void (*set_nsteps)(void *state, int64_t nsteps);
  void (*finalize)(void *state);
  void (*save_state)(void *state, int64_t slot, int64_t step, void *env);
  void (*load_state)(void *state, int64_t slot, int64_t step, void *env);
  void (*set_paths)(void *state, const int64_t *paths, uint64_t len);
} scheme;

struct adcc_ckpt {
  char *env;
  region *regions;
  uint64_t nregions, cap, bytes;
  const scheme *vt;
  void *state;
  int64_t start, n;
  int finished; /* the forward sweep met DONE: nothing to reverse */
};

adcc_ckpt *adcc_ckpt_new(int64_t env_bytes) {
  adcc_ckpt *h = calloc(1, sizeof *h);
  if (!h || !(h->env = calloc(1, (size_t)(env_bytes > 0 ? env_bytes : 1))))
    adcc_fatal("out of memory (__enzyme_checkpoint_for)");
  return h;
}

void *adcc_ckpt_env(adcc_ckpt *h) { return h->env; }

void adcc_ckpt_region(adcc_ckpt *h, void *ptr, int64_t bytes, void *shadow) {
  if (bytes < 0)
    adcc_fatal("__enzyme_checkpoint_for: a checkpoint region of negative size");
  if (h->nregions == h->cap) {
    h->cap = h->cap ? 2 * h->cap : 8;
    h->regions = realloc(h->regions, h->cap * sizeof(region));
    if (!h->regions)
      adcc_fatal("out of memory (__enzyme_checkpoint_for)");
  }
  region *r = &h->regions[h->nregions++];
  memset(r, 0, sizeof *r);
  r->ptr = ptr;
  r->bytes = (uint64_t)bytes;
  r->shadow = shadow;
  h->bytes += (uint64_t)bytes;
}

static void save(adcc_ckpt *h, int64_t slot, int64_t step) {
  if (h->vt->save_state)
    h->vt->save_state(h->state, slot, step, h->env);
  else
    h->vt->store(h->state, slot, step, h->regions, h->nregions);
}

static void load(adcc_ckpt *h, int64_t slot, int64_t step) {
  if (h->vt->load_state)
    h->vt->load_state(h->state, slot, step, h->env);
  else
    h->vt->restore(h->state, slot, step, h->regions, h->nregions);
}

static void advance(adcc_ckpt *h, const action *a, adcc_ckpt_step_fn primal) {
  if (a->startiteration < 0 || a->iteration > h->n || a->startiteration > a->iteration)
    adcc_fatal("__enzyme_checkpoint_for: the scheme asked to run steps outside the loop");
  for (int64_t j = a->startiteration; j < a->iteration; j++)
    (void)primal(h->start + j, h->env);
}

static const scheme *checked(const void *vt) {
  const scheme *s = vt;
  if (!s || !s->init || !s->next_action || !s->finalize)
    adcc_fatal("__enzyme_checkpoint_for: the scheme has no init, next_action or finalize");
  if ((!s->store || !s->restore) && (!s->save_state || !s->load_state))
    adcc_fatal("__enzyme_checkpoint_for: the scheme has neither store/restore nor save_state/load_state");
  return s;
}

static void sweep(adcc_ckpt *h, adcc_ckpt_step_fn primal);

void adcc_ckpt_forward(adcc_ckpt *h, const void *vt, void *config, int64_t start, int64_t n,
                       adcc_ckpt_step_fn primal) {
  const scheme *s = checked(vt);
  if (n < 0)
    adcc_fatal("__enzyme_checkpoint_for: a negative number of steps");
  h->vt = s;
  h->start = start;
  h->n = n;
  h->state = s->init(config, n, h->bytes);
  sweep(h, primal);
}

/* Until the loop ends, the scheme sees nsteps = -1 and may only store and run steps forward; the
 * step that returns 0 is the last: set_nsteps, then the sweep goes on as for a counted loop. */
void adcc_ckpt_forward_while(adcc_ckpt *h, const void *vt, void *config, adcc_ckpt_step_fn primal) {
  const scheme *s = checked(vt);
  if (!s->set_nsteps)
    adcc_fatal("__enzyme_checkpoint_while: the scheme cannot drive a while loop (no set_nsteps; "
               "EnzymeCkptStoreAll can)");
  h->vt = s;
  h->start = 0;
  h->n = INT64_MAX;
  h->state = s->init(config, -1, h->bytes);
  for (;;) {
    action a = {0, 0, 0, 0};
    s->next_action(h->state, &a);
    if (a.flag == STORE) {
      save(h, a.cpnum, a.iteration);
    } else if (a.flag == FORWARD) {
      if (a.startiteration < 0 || a.startiteration > a.iteration)
        adcc_fatal("__enzyme_checkpoint_while: the scheme asked to run steps outside the loop");
      for (int64_t j = a.startiteration; j < a.iteration; j++)
        if (!primal(j, h->env)) {
          h->n = j + 1;
          s->set_nsteps(h->state, h->n);
          sweep(h, primal);
          return;
        }
    } else {
      adcc_fatal("__enzyme_checkpoint_while: the scheme gave an action a running while loop cannot take");
    }
  }
}

static void sweep(adcc_ckpt *h, adcc_ckpt_step_fn primal) {
  const scheme *s = h->vt;
  int64_t start = h->start, n = h->n;
  for (;;) {
    action a = {0, 0, 0, 0};
    s->next_action(h->state, &a);
    switch (a.flag) {
    case STORE: save(h, a.cpnum, a.iteration); break;
    case RESTORE: load(h, a.cpnum, a.iteration); break;
    case FORWARD: advance(h, &a, primal); break;
    case FIRSTUTURN:
      if (a.iteration != n || n == 0)
        adcc_fatal("__enzyme_checkpoint_for: the first turn is not at the last step");
      save(h, -2, n - 1);
      (void)primal(start + n - 1, h->env);
      return;
    case DONE:
      if (n != 0)
        adcc_fatal("__enzyme_checkpoint_for: the schedule ended before the first turn");
      h->finished = 1;
      return;
    default:
      adcc_fatal("__enzyme_checkpoint_for: the scheme gave an action the forward sweep cannot take");
    }
  }
}

void adcc_ckpt_reverse(adcc_ckpt *h, adcc_ckpt_step_fn primal, adcc_ckpt_gradient_fn gradient) {
  if (!h->finished) {
    int64_t n = h->n, next = n - 1; /* the step the next turn must differentiate */
    save(h, -1, n);
    load(h, -2, n - 1);
    gradient(h->start + n - 1, h->env);
    for (;;) {
      action a = {0, 0, 0, 0};
      h->vt->next_action(h->state, &a);
      if (a.flag == DONE)
        break;
      switch (a.flag) {
      case STORE: save(h, a.cpnum, a.iteration); break;
      case RESTORE: load(h, a.cpnum, a.iteration); break;
      case FORWARD: advance(h, &a, primal); break;
      case UTURN:
        if (a.iteration != next || next <= 0)
          adcc_fatal("__enzyme_checkpoint_for: the scheme turned at a step out of order");
        gradient(h->start + a.iteration - 1, h->env);
        next--;
        break;
      default:
        adcc_fatal("__enzyme_checkpoint_for: the scheme gave an action the reverse sweep cannot take");
      }
    }
    if (next != 0)
      adcc_fatal("__enzyme_checkpoint_for: the schedule ended before every step was differentiated");
    load(h, -1, n);
  }
  h->vt->finalize(h->state);
  h->state = NULL;
}

void adcc_ckpt_free(adcc_ckpt *h) {
  if (!h)
    return;
  if (h->state) /* a forward sweep whose reverse never ran */
    h->vt->finalize(h->state);
  free(h->regions);
  free(h->env);
  free(h);
}
