/* adcc runtime: the driver of Enzyme's explicit loop checkpointing (__enzyme_checkpoint_for,
 * <enzyme/checkpoint.h>; adcc.ad.rules.checkpoint_api emits the calls). In reverse mode the
 * compiled code packs the step's arguments (and their shadows) into an environment the driver
 * owns, and hands it two functions of (i, env): the step's primal and its gradient (augmented
 * forward and reverse pass together, one step's tape). Primal code and forward mode need no
 * driver: they are plain loops over the step or its tangent. The scheme (a vtable of the header) decides
 * what is snapshotted when; the driver snapshots the regions it was given. */
#ifndef ADCC_CHECKPOINT_H
#define ADCC_CHECKPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t (*adcc_ckpt_step_fn)(int64_t i, void *env); /* the step's primal: nonzero to go on */
typedef void (*adcc_ckpt_gradient_fn)(int64_t i, void *env);
typedef struct adcc_ckpt adcc_ckpt;

adcc_ckpt *adcc_ckpt_new(int64_t env_bytes);
void *adcc_ckpt_env(adcc_ckpt *h);                        /* the step's packed arguments */
void adcc_ckpt_region(adcc_ckpt *h, void *ptr, int64_t bytes, void *shadow); /* snapshot this too */
/* reverse mode, augmented pass: the forward sweep (the primal of every step; snapshots) */
void adcc_ckpt_forward(adcc_ckpt *h, const void *scheme, void *config, int64_t start, int64_t n,
                       adcc_ckpt_step_fn primal);
/* the same for __enzyme_checkpoint_while: steps 0, 1, ... until one returns 0 */
void adcc_ckpt_forward_while(adcc_ckpt *h, const void *scheme, void *config, adcc_ckpt_step_fn primal);
/* reverse mode, reverse pass: the reverse sweep; the state is left as the forward pass left it */
void adcc_ckpt_reverse(adcc_ckpt *h, adcc_ckpt_step_fn primal, adcc_ckpt_gradient_fn gradient);
void adcc_ckpt_free(adcc_ckpt *h);

#ifdef __cplusplus
}
#endif

#endif /* ADCC_CHECKPOINT_H */
