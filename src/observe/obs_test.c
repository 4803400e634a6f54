#include "phasediag/observe/obs_test.h"

#include <math.h>
#include <stdio.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

enum { PD_TE_LOSS, PD_TE_REL, PD_TE_ACC, PD_TE_TRAIN_ACC, PD_TE_OUTPUT };

static int64_t pd_te_place(pd_layout *L) {
  return L->ntest > 0 ? PD_TE_OUTPUT + L->ntest : 0;
}

static void pd_te_fields(const pd_layout *L, int64_t off, pd_field *f, int *n) {
  pd_field_set(&f[(*n)++], "/runs/test_loss", 0, 0, 0, off + PD_TE_LOSS, 0,
               "1/(2 n_test) sum (f - y)^2 on the test set");
  pd_field_set(&f[(*n)++], "/runs/test_rel_error", 0, 0, 0, off + PD_TE_REL, 0,
               "|f - y| / |y| on the test set");
  pd_field_set(&f[(*n)++], "/runs/test_accuracy", 0, 0, 0, off + PD_TE_ACC, 0,
               "fraction of test points with sign(f) = sign(y); NaN unless "
               "every target is +1 or -1");
  pd_field_set(&f[(*n)++], "/runs/train_accuracy", 0, 0, 0,
               off + PD_TE_TRAIN_ACC, 0,
               "fraction of training points with sign(f) = sign(y); NaN "
               "unless every target is +1 or -1");
  pd_field_set(&f[(*n)++], "/test/output", 1, L->ntest, 0, off + PD_TE_OUTPUT,
               0, "the trained network at the test points");
}

/* Whether every target is a label +1 or -1: only then is the sign of f a
 * prediction that can be right or wrong. */
static int pd_targets_are_signs(const pd_data *set) {
  for (int64_t i = 0; i < set->n; i++)
    if (fabs(set->y[i]) != 1.0) return 0;
  return set->n > 0;
}

/* Sign agreement of f with y over the set; NaN for a regression target. */
static double pd_sign_accuracy(const pd_data *set, const double *f) {
  if (!pd_targets_are_signs(set)) return NAN;
  int64_t hit = 0;
  for (int64_t i = 0; i < set->n; i++) hit += (f[i] > 0) == (set->y[i] > 0);
  return (double)hit / (double)set->n;
}

static int pd_te_finish(void *state, const pd_obs_run *run, double *block) {
  (void)state;
  const pd_data *test = run->test, *data = run->data;
  double *f = NULL;
  const int64_t n = test->n > data->n ? test->n : data->n;
  int err = pd_calloc((size_t)n, sizeof(double), &f);
  PD_COLLECTIVE(pd_net_comm(run->net), err);
  err = pd_net_output(run->net, data, f);
  if (!err) {
    block[PD_TE_TRAIN_ACC] = pd_sign_accuracy(data, f);
    err = pd_net_output(run->net, test, f);
  }
  if (!err) {
    double se = 0, sy = 0;
    for (int64_t i = 0; i < test->n; i++) {
      se += (f[i] - test->y[i]) * (f[i] - test->y[i]);
      sy += test->y[i] * test->y[i];
    }
    block[PD_TE_LOSS] = 0.5 * se / (double)test->n;
    block[PD_TE_REL] = sy > 0 ? sqrt(se / sy) : NAN;
    block[PD_TE_ACC] = pd_sign_accuracy(test, f);
    for (int64_t i = 0; i < test->n; i++) block[PD_TE_OUTPUT + i] = f[i];
  }
  pd_free(&f);
  PD_CALL(err);
  return PD_OK;
}

static void pd_te_progress(const pd_layout *L, const double *block, char *buf,
                           size_t size) {
  (void)L;
  int len = snprintf(buf, size, "test: loss %.3e, relative error %.3g",
                     block[PD_TE_LOSS], block[PD_TE_REL]);
  if (!isnan(block[PD_TE_ACC]) && len >= 0 && (size_t)len < size)
    snprintf(buf + len, size - (size_t)len, ", sign accuracy %.3f",
             block[PD_TE_ACC]);
}

const pd_observer_type pd_obs_test_type = {.name = "test",
                                           .place = pd_te_place,
                                           .fields = pd_te_fields,
                                           .finish = pd_te_finish,
                                           .progress = pd_te_progress};
