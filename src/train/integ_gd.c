/* The integrator "gd": full-batch gradient descent with the automatic step
 * of train.h (cap lr_cap / lambda_max, growth lr_grow, shrink lr_shrink on
 * rejection, the trust bound max_rel_step, the non-monotone window of
 * PD_TRAIN_WINDOW accepted losses, stalled below PD_STALL_RATIO of the
 * cap, diverged after max_rejects consecutive rejections). */
#include <math.h>
#include <stddef.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/train/integrator.h"
#include "phasediag/train/train.h"

typedef struct {
  int64_t rejects;                /* consecutive rejections */
  int64_t nrecent;                /* entries of recent in use */
  double lr, cap, lambda;         /* step, its cap, lambda_max */
  double recent[PD_TRAIN_WINDOW]; /* the non-monotone window, verbatim */
  double *v;                      /* power vector (n) */
  double *work;                   /* power iteration scratch (n), not kept */
} pd_gd_state;

#define PD_GD_AT(f) offsetof(pd_gd_state, f)
static const pd_state_field pd_gd_fields[] = {
    {"rejects", PD_FIELD_INT64, PD_GD_AT(rejects), 1, 0},
    {"nrecent", PD_FIELD_INT64, PD_GD_AT(nrecent), 1, 0},
    {"lr", PD_FIELD_DOUBLE, PD_GD_AT(lr), 1, 0},
    {"cap", PD_FIELD_DOUBLE, PD_GD_AT(cap), 1, 0},
    {"lambda", PD_FIELD_DOUBLE, PD_GD_AT(lambda), 1, 0},
    {"recent", PD_FIELD_DOUBLE, PD_GD_AT(recent), PD_TRAIN_WINDOW, 0},
    {"v", PD_FIELD_SAMPLES, PD_GD_AT(v), 1, 0}};

static int pd_gd_create(void *state, int64_t n) {
  pd_gd_state *s = state;
  /* zeroed: until the window fills, the entries not yet written (index 0
   * until step 10) enter the maximum as 0, below any loss */
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &s->v));
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &s->work));
  return PD_OK;
}

static void pd_gd_free(void *state) {
  pd_gd_state *s = state;
  pd_free(&s->v);
  pd_free(&s->work);
}

static double pd_cap(const pd_train_options *o, double lambda) {
  double cap = lambda > 0 && isfinite(lambda) ? o->lr_cap / lambda : 1e300;
  return cap < 1e300 ? cap : 1e300;
}

static int pd_gd_start(void *state, pd_net *net, const pd_data *data,
                       const pd_train_options *opt, int resumed,
                       int64_t *evals) {
  pd_gd_state *s = state;
  *evals = 0;
  if (resumed) {
    PD_CHECK(
        s->rejects >= 0 && s->nrecent >= 0 && s->nrecent <= PD_TRAIN_WINDOW,
        PD_ERR_ARG,
        "resume state of gd: %lld rejects, %lld window "
        "entries",
        (long long)s->rejects, (long long)s->nrecent);
    return PD_OK;
  }
  PD_CALL(pd_train_lambda_max(net, data, s->v, s->work, 30, &s->lambda));
  *evals = 30;
  s->lr = s->cap = pd_cap(opt, s->lambda);
  return PD_OK;
}

/* Accepted: the window, then the next step (grown, capped, trust-bounded;
 * lambda_max renewed every lambda_every steps). */
static int pd_gd_accept(pd_gd_state *s, pd_net *net, const pd_data *data,
                        const pd_train_options *opt, int64_t steps, double loss,
                        double rel, int64_t *evals) {
  s->rejects = 0;
  pd_window_push(s->recent, &s->nrecent, steps, loss); /* what it left */
  /* grow, but stay under the cap and (as rel scales with lr) the trust
   * bound the last step suggests */
  double next = fmin(s->lr * opt->lr_grow, s->cap);
  if (rel > 0) next = fmin(next, s->lr * opt->max_rel_step / rel);
  s->lr = next;
  if (steps % opt->lambda_every == 0) {
    PD_CALL(pd_train_lambda_max(net, data, s->v, s->work, opt->power_iters,
                                &s->lambda));
    *evals += opt->power_iters;
    s->cap = pd_cap(opt, s->lambda);
    s->lr = fmin(s->lr, s->cap);
  }
  return PD_OK;
}

static int pd_gd_step(void *state, pd_net *net, const pd_data *data,
                      const pd_train_options *opt, int64_t steps, double loss,
                      const double *c, double *fn, pd_integ_step *out) {
  pd_gd_state *s = state;
  *out = (pd_integ_step){.status = PD_STATUS_NOT_RUN, .evals = 1, .gnorm = NAN};
  PD_CALL(pd_net_descend(net, data, c, s->lr, fn));
  const double lossn = pd_train_residual(data, fn, NULL);
  /* relative size of the step in a and in w */
  double q[4], rel = 0;
  pd_net_step_norms(net, q);
  if (q[0] > 0) rel = fmax(rel, sqrt(q[2] / q[0]));
  if (q[1] > 0) rel = fmax(rel, sqrt(q[3] / q[1]));
  const int too_far = rel > opt->max_rel_step;
  /* non-monotone acceptance (integrator.h) */
  const double ref = pd_window_ref(s->recent, s->nrecent, loss);
  if (too_far || !(lossn <= ref)) { /* rose, NaN, or too far: retry */
    pd_net_undo(net);
    s->lr *= too_far ? fmin(opt->lr_shrink, 0.9 * opt->max_rel_step / rel)
                     : opt->lr_shrink;
    if (++s->rejects > opt->max_rejects)
      out->status = PD_STATUS_DIVERGED;
    else if (s->lr < PD_STALL_RATIO * s->cap)
      out->status = PD_STATUS_STALLED;
    return PD_OK;
  }
  out->accepted = 1;
  out->dt = s->lr;
  out->gnorm = sqrt(q[2] + q[3]) / s->lr; /* the step is lr times it */
  return pd_gd_accept(s, net, data, opt, steps + 1, loss, rel, &out->evals);
}

static void pd_gd_info(const void *state, double *dt, double *lambda_max) {
  const pd_gd_state *s = state;
  *dt = s->lr;
  *lambda_max = s->lambda;
}

const pd_integrator_type pd_integ_gd = {
    .name = "gd",
    .size = sizeof(pd_gd_state),
    .state = {pd_gd_fields,
              (int)(sizeof pd_gd_fields / sizeof pd_gd_fields[0])},
    .create = pd_gd_create,
    .start = pd_gd_start,
    .step = pd_gd_step,
    .info = pd_gd_info,
    .free = pd_gd_free};
