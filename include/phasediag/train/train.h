/* Full-batch gradient descent with an automatic step size.
 *
 * R = 1/(2n) sum_i (f(x_i) - y_i)^2.  The step is capped by lr_cap/lambda_max
 * of the Gram matrix G = (1/n) J J^T (matrix-free power iteration, warm
 * started), grows by lr_grow after each accepted step and is multiplied by
 * lr_shrink and retried when the loss would rise above the largest of the
 * last PD_TRAIN_WINDOW accepted losses.  There is no learning rate
 * to tune.  A trust bound keeps each step within max_rel_step of the current
 * norms of a and of w, so a large step cannot jump off the gradient-flow path
 * (the cap alone allows that at small initialization, where the residual
 * term of the Hessian dominates the Gram matrix).  Flow time t is the sum of
 * accepted steps; t* is the time the loss first drops below tol.  All decisions
 * use replicated, reproducible numbers, so every rank takes the same path and
 * the run is the same at any rank count. */
#ifndef PHASEDIAG_TRAIN_H
#define PHASEDIAG_TRAIN_H

#include <stdint.h>

#include "phasediag/model/data.h"
#include "phasediag/model/net.h"
#include "phasediag/train/integrator.h"

typedef enum {
  PD_STATUS_NOT_RUN = -1,
  PD_STATUS_CONVERGED = 0, /* loss < tol */
  PD_STATUS_MAX_STEPS = 1, /* step budget spent */
  PD_STATUS_DIVERGED = 2,  /* non-finite loss that halving cannot cure */
  PD_STATUS_STALLED = 3,   /* the step collapsed (below PD_STALL_RATIO of
                              the cap, or the flow time stopped advancing),
                              or (opt-in) no progress in plateau_steps
                              steps: typically a ReLU kink pinned on a data
                              point */
  PD_STATUS_STATIONARY = 4 /* the gradient norm fell below stationary_tol
                              times its value at the start, the loss still
                              at or above tol: a critical point of the loss
                              (a local minimum, or a saddle the flow cannot
                              leave in floating point) */
} pd_status;

#define PD_STALL_RATIO 1e-10
/* A run whose flow time advances by less than PD_STALL_TIME_GAIN of itself
 * in PD_STALL_TIME_STEPS accepted steps while its loss gains less than
 * PD_PLATEAU_GAIN is stalled too: where a ReLU kink is pinned on a data
 * point and every finite step across it raises the loss, error control
 * accepts only vanishing steps, and neither the flow nor the loss moves.
 * (The loss condition keeps a run that still descends, e.g. after a long
 * plateau that built up a large t with small steps of 1/lambda_max.) */
#define PD_STALL_TIME_STEPS 1000
#define PD_STALL_TIME_GAIN 1e-6
/* With plateau_steps > 0 (an opt-in for gd), a run whose best loss has not
 * improved by a factor (1 - PD_PLATEAU_GAIN) in plateau_steps accepted
 * steps is stalled too: a kink pinned on a data point that the non-monotone
 * search keeps circling, but also any long saddle of the flow, which is why
 * it is off by default. */
#define PD_PLATEAU_GAIN 1e-4
/* stop hook return: save the state (save_state) and go on training */
#define PD_TRAIN_SAVE 2
/* The loss ladder: levels 10^(PD_LADDER_TOP - k / PD_LADDER_PER_DECADE),
 * k = 0 .. PD_LADDER_LEVELS - 1 (1e2 down to 1e-14, 20 per decade: 12%
 * apart).  A run records the flow time and rd_w at the first accepted step
 * whose loss is below each level it reaches (a level at or above the
 * initial loss: t = 0, rd_w = 0), so that runs of different widths can be
 * compared at a loss every one of them reached (matched-loss RD). */
#define PD_LADDER_TOP 2
#define PD_LADDER_PER_DECADE 20
#define PD_LADDER_LEVELS 321
/* Level k of the ladder. */
double pd_ladder_level(int k);

const char *pd_status_name(int status);

typedef struct {
  int64_t step;
  double time, loss, rd_w;
} pd_history_point;

struct pd_train_state;

/* The step rule is an integrator (integrator.h), chosen by name; "gd" is
 * the rule described above.  The loop (pd_train) is the same for every
 * integrator.  Plain bytes only: the options are part of pd_config, which
 * is broadcast as bytes. */
typedef struct pd_train_options {
  double tol;              /* stop when the loss is below this (1e-6) */
  int64_t max_steps;       /* accepted steps at most (1000000) */
  double lr_cap;           /* step <= lr_cap / lambda_max (1.0) */
  double lr_grow;          /* factor after an accepted step (1.1) */
  double lr_shrink;        /* factor after a rejected step (0.5) */
  int64_t lambda_every;    /* accepted steps between lambda_max updates (10) */
  int power_iters;         /* power iterations per update (3; 30 at start) */
  int max_rejects;         /* consecutive rejections meaning divergence (60) */
  double max_rel_step;     /* a step moves a and w by at most this fraction
                              of their norms (0.1): stays near gradient flow */
  int history_points;      /* log-spaced history records at most (64) */
  double progress_seconds; /* INFO progress line interval, 0 = none (0) */
  /* Snapshots: the observe hook (pd_train_hooks) is called, collectively,
   * at step 0, at `snapshots` log-spaced steps in [1, max_steps] (the same
   * marks for every run; those past the stop are not reached) and at the
   * stop. */
  int snapshots;       /* log-spaced snapshot marks (0 = only start and stop) */
  char integrator[16]; /* the step rule, a registered name ("gd") */
  double rtol; /* rkc: local error per step relative to its motion (1e-4) */
  double stationary_tol; /* stop as stationary when |grad| falls below this
                            times |grad| at the start (1e-10) */
  int64_t plateau_steps; /* stop as stalled after this many accepted steps
                            without a PD_PLATEAU_GAIN gain (0 = never) */
} pd_train_options;

/* The caller's hooks into the loop (all may be NULL; pd_train takes a NULL
 * pd_train_hooks for none). */
typedef struct {
  /* called once per step on every rank (local): lets a rank that also
   * schedules work answer its peers while it trains */
  void (*poll)(void *ctx);
  void *poll_ctx;
  /* called once per step on every rank, after poll: a non-zero return
   * stops the run with PD_ERR_INTERRUPTED (no result), except
   * PD_TRAIN_SAVE, which calls save_state and goes on.  It must return the
   * same on every rank at the same step (the caller agrees across the
   * communicator; see sched.c) */
  int (*stop)(void *ctx);
  void *stop_ctx;
  /* collective, at the snapshot marks (see pd_train_options.snapshots),
   * with the network and its outputs f at the training points.  Its time
   * is kept out of the step timers (PD_T_SNAPSHOT).  A non-zero return
   * stops the training with that error. */
  int (*observe)(void *ctx, pd_net *net, const double *f, int64_t step,
                 double t, double loss);
  void *observe_ctx;
  /* In-flight state.  When stop returns non-zero, save_state is called
   * collectively with the complete loop state (the parameters are the
   * net's current ones), then pd_train returns PD_ERR_INTERRUPTED (or, for
   * PD_TRAIN_SAVE, goes on); a non-zero return of save_state is returned
   * instead.  resume: continue from this state instead of step 0; the
   * caller has loaded the state's parameters into the net.  The continued
   * run is bitwise the uninterrupted one, at any rank count. */
  int (*save_state)(void *ctx, pd_net *net, const struct pd_train_state *st);
  void *save_ctx;
  const struct pd_train_state *resume;
} pd_train_hooks;

/* The loop's state at the top of a step: with the integrator's state,
 * everything that decides the rest of the run besides the parameters.
 * What a checkpoint keeps of it is pd_train_state_table, in that order
 * (the first two fields are nhistory and steps). */
typedef struct pd_train_state {
  int64_t nhistory;          /* history points recorded */
  int64_t steps, rejected;   /* accepted and rejected steps so far */
  int64_t mark_step;         /* plateau: last step that improved enough */
  int64_t tmark_step;        /* stall: a multiple of PD_STALL_TIME_STEPS */
  int64_t snap_mark;         /* next snapshot step (-1: none left) */
  int64_t last_observed;     /* last observed step (-1: none) */
  int64_t next_snap;         /* index of snap_mark */
  int64_t nsnapshots;        /* observer calls made */
  int64_t evaluations;       /* gradient evaluations so far */
  int64_t next_level;        /* the first ladder level not yet reached */
  double t, loss, loss0;     /* flow time, current and initial loss */
  double mark_loss;          /* plateau: the loss at mark_step */
  double gnorm0, gnorm;      /* |grad L| at the start and at the last step's
                                start (NaN: not known yet) */
  double tmark, tmark_loss;  /* the flow time and loss at tmark_step */
  double next_mark;          /* next history mark */
  double seconds;            /* wall time so far (informative) */
  double snapshot_seconds;   /* of it in the observers (informative) */
  pd_history_point *history; /* nhistory points */
  double *f;                 /* outputs at the training points (n) */
  /* flow time [PD_LADDER_LEVELS], then rd_w [PD_LADDER_LEVELS] at the
   * first step below each ladder level (NaN: not reached) */
  double ladder[2 * PD_LADDER_LEVELS];
  /* not in the table */
  int64_t n; /* samples: length of f */
  int final; /* save_state: the run stops after this save */
  const pd_integrator_type *integ; /* the step rule */
  void *integ_state; /* its state (integ->size bytes, its table) */
} pd_train_state;

/* The checkpointed fields of pd_train_state (integrator.h). */
extern const pd_state_table pd_train_state_table;
/* The defaults of the options that are job-file keys ([train], [spectral]
 * snapshots) come from the key table (confkeys.h), as do their ranges; the
 * others are 0. */
void pd_train_options_default(pd_train_options *opt);
/* PD_ERR_ARG naming the first bad option: outside its key's range, or a
 * negative progress_seconds, or an integrator not registered. */
int pd_train_options_check(const pd_train_options *opt);

typedef struct {
  int status;         /* pd_status */
  int64_t steps;      /* accepted steps */
  int64_t rejected;   /* rejected (retried) steps */
  double t_star;      /* flow time at the stop */
  double loss0, loss; /* initial and final loss */
  double rd_w, rd_a;  /* relative distance from theta(0) at the stop */
  double lambda_max;  /* last estimate of lambda_max(G) */
  double seconds;     /* wall time of the run */
  int nhistory;
  pd_history_point *history; /* owned; pd_train_result_free */
  int nsnapshots;            /* observer calls made */
  double snapshot_seconds;   /* wall time spent in them (max over ranks) */
  int64_t evaluations;       /* gradient evaluations: passes over the data
                                with a backward part (steps, stages, rejected
                                tries, lambda_max iterations) */
  double *ladder;            /* owned: flow time [PD_LADDER_LEVELS], then rd_w
                                [PD_LADDER_LEVELS] at the first step below each level
                                (NaN: not reached) */
} pd_train_result;

/* Collective over the network's communicator.  Trains net on data in place.
 * A non-finite loss is a status (diverged), not an error. */
int pd_train(pd_net *net, const pd_data *data, const pd_train_options *opt,
             const pd_train_hooks *hooks, pd_train_result *res);
void pd_train_result_free(pd_train_result *res);

/* Collective: estimate lambda_max of G = (1/n) J J^T by `iters` power
 * iterations from v (length n, updated to the latest iterate). */
int pd_train_lambda_max(pd_net *net, const pd_data *data, double *v,
                        double *work, int iters, double *lambda);

/* The loss 1/(2n) |f - y|^2; with c given, also c = (f - y) / n. */
double pd_train_residual(const pd_data *data, const double *f, double *c);

#endif
