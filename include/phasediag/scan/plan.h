/* The task list of a scan: grid points x widths x seeds.
 *
 * Points are the gamma x gamma' grid (gamma outer) followed by the named
 * schemes.  Task t = (p * W + w) * S + s.  The RNG key of a task is (seed,
 * width): a task's initial network depends only on its own seed and width,
 * never on the order or the group that runs it, and all points share the
 * same draws (common random numbers across the grid). */
#ifndef PHASEDIAG_PLAN_H
#define PHASEDIAG_PLAN_H

#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/scheme.h"

#define PD_LABEL_LEN 16

typedef struct {
  double gamma, gamma_prime; /* coordinates (for schemes: from formulas) */
  int scheme;                /* pd_scheme_kind; PD_SCHEME_GRID for the grid */
  char label[PD_LABEL_LEN];  /* scheme name, or "" */
} pd_point;

typedef struct {
  int P, W, S;      /* points, widths, seeds */
  int64_t ntasks;   /* P * W * S */
  pd_point *points; /* [P] */
  int64_t *widths;  /* [W] */
  uint64_t *seeds;  /* [S] */
  int64_t *order;   /* [ntasks] task ids, largest width first */
  int d;            /* input dimension of the data */
  int dnet;         /* the networks' input dimension: d, or the rank of
                       the data's span when they train in it (span.h) */
  int64_t n;        /* samples */
} pd_plan;

/* Local: build the plan of cfg for data of n samples in dimension d. */
int pd_plan_create(const pd_config *cfg, int64_t n, int d, pd_plan **plan);
void pd_plan_destroy(pd_plan **plan);

/* Indices of task t. */
void pd_plan_task(const pd_plan *plan, int64_t t, int *p, int *w, int *s);

/* Scales of point p at width index w (base scale for grid points). */
int pd_plan_scales(const pd_plan *plan, int p, int w, double base_scale,
                   pd_scales *scales);

/* The widest network of the plan. */
int64_t pd_plan_max_width(const pd_plan *plan);

/* Neuron-sample work of one step summed over all tasks, and the largest
 * per-rank parameter memory in bytes for a group of g ranks. */
double pd_plan_work_per_step(const pd_plan *plan);
double pd_plan_max_bytes(const pd_plan *plan, int g);

#endif
