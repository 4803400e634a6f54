/* Flow integrators: the step rule of the training loop (train.h), as a
 * type.  The loop owns the outputs f, the coefficients c, the history, the
 * snapshots, the statuses converged and max_steps, the plateau stop, the
 * progress lines and the hooks; an integrator owns how one step is tried
 * (its step size, its acceptance rule, whatever it keeps between steps).
 *
 * The state that must survive a checkpoint, of the loop and of each
 * integrator, is described once, by a field table (pd_state_field); the
 * in-flight state file (task.c) is written and read through the tables. */
#ifndef PHASEDIAG_INTEGRATOR_H
#define PHASEDIAG_INTEGRATOR_H

#include <stddef.h>
#include <stdint.h>

#include "phasediag/model/data.h"
#include "phasediag/model/net.h"

struct pd_train_options;

/* ---- state field tables ------------------------------------------------ */

typedef enum {
  PD_FIELD_INT64,   /* count int64_t at offset */
  PD_FIELD_DOUBLE,  /* count doubles at offset */
  PD_FIELD_SAMPLES, /* a double * at offset: count x n doubles */
  PD_FIELD_RECORDS  /* a pointer at offset to items of count doubles (or
                       int64s), as many as the int64 at len_offset says */
} pd_field_kind;

typedef struct {
  const char *name;
  pd_field_kind kind;
  size_t offset;
  int count;
  size_t len_offset; /* PD_FIELD_RECORDS only */
} pd_state_field;

typedef struct {
  const pd_state_field *fields;
  int nfields;
} pd_state_table;

/* Bytes of the packed state st (n samples); -1 when a length is negative. */
int64_t pd_state_size(const pd_state_table *tab, const void *st, int64_t n);
/* Pack st into out (pd_state_size bytes), fields in table order, native
 * byte order. */
void pd_state_pack(const pd_state_table *tab, const void *st, int64_t n,
                   unsigned char *out);
/* Unpack from in (size bytes) into st: the scalars are copied, the pointer
 * fields point into in (8-byte aligned).  The bytes used, or -1 when in is
 * too short or a length negative. */
int64_t pd_state_unpack(const pd_state_table *tab, void *st, int64_t n,
                        const unsigned char *in, int64_t size);
/* Copy the state src into dst: the scalars, and the contents of the
 * pointer fields into dst's buffers (which must be large enough). */
void pd_state_copy(const pd_state_table *tab, void *dst, const void *src,
                   int64_t n);

/* ---- integrators --------------------------------------------------------- */

/* What one try of a step did. */
typedef struct {
  int accepted;  /* 1: the net moved and fn holds its outputs; 0: undone */
  int status;    /* PD_STATUS_NOT_RUN, or a status that ends the run
                    (PD_STATUS_DIVERGED, PD_STATUS_STALLED) */
  double dt;     /* flow time of an accepted step */
  int64_t evals; /* gradient evaluations this try made */
  double gnorm;  /* accepted: |grad L| (Euclidean, over every a and w) at
                    the point the step started from (gd: the motion of
                    its step over its size, which rounding can make 0
                    for steps below half an ulp of the parameters); NaN
                    if not known */
} pd_integ_step;

typedef struct pd_integrator_type {
  const char *name;
  size_t size;          /* bytes of its state (zeroed before create) */
  pd_state_table state; /* of it, what a checkpoint keeps */
  /* allocate the state's buffers for n samples */
  int (*create)(void *state, int64_t n);
  /* collective, after step 0 was recorded (resumed = 0: from theta(0),
   * e.g. the first lambda_max), or on a resumed state (resumed = 1:
   * PD_ERR_ARG if the state is not one of this integrator's); *evals: the
   * gradient evaluations it made */
  int (*start)(void *state, pd_net *net, const pd_data *data,
               const struct pd_train_options *opt, int resumed, int64_t *evals);
  /* collective: try one step from the current loss and c = (f - y) / n;
   * `steps` accepted steps were made; on acceptance fn holds the new
   * outputs */
  int (*step)(void *state, pd_net *net, const pd_data *data,
              const struct pd_train_options *opt, int64_t steps, double loss,
              const double *c, double *fn, pd_integ_step *out);
  /* the current step size and last lambda_max estimate (reports) */
  void (*info)(const void *state, double *dt, double *lambda_max);
  void (*free)(void *state);
} pd_integrator_type;

/* How many integrators are registered (integrator.c lists them). */
#define PD_INTEGRATOR_COUNT 2

/* The registered integrator of this name, or NULL. */
const pd_integrator_type *pd_integrator_find(const char *name);
/* The i-th registered name (NULL past the last). */
const char *pd_integrator_name(int i);

/* An integrator's state: calloc of type->size, then create. */
int pd_integrator_create(const pd_integrator_type *type, int64_t n,
                         void **state);
void pd_integrator_destroy(const pd_integrator_type *type, void **state);

/* The non-monotone acceptance window (Grippo, Lampariello, Lucidi) of the
 * step rules: a step may raise the loss above the current one, but not
 * above the largest of the last PD_TRAIN_WINDOW accepted losses.  A
 * strictly monotone test collapses the step when a ReLU kink zig-zags
 * around a data point (every finite step overshoots the kink); with the
 * window the kink oscillates in a bounded band while the rest of the net
 * descends.  recent[] holds the losses verbatim in slot step % size
 * (entries not yet written are 0, below any loss); the maximum reads its
 * first *n slots, *n counting the pushes up to the size (so in the first
 * steps the newest slot may be unread: the rule gd always had). */
#define PD_TRAIN_WINDOW 10
/* The largest of loss and the window's losses. */
double pd_window_ref(const double *recent, int64_t n, double loss);
/* Accepted step number `step` (1, 2, ...) started from `loss`: into the
 * window. */
void pd_window_push(double *recent, int64_t *n, int64_t step, double loss);

/* The registered integrators (integ_*.c). */
extern const pd_integrator_type pd_integ_gd;  /* integ_gd.c */
extern const pd_integrator_type pd_integ_rkc; /* integ_rkc.c */

#endif
