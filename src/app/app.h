/* The phasediag command (src/app/main.c, app_*.c; private to the executable):
 * its arguments, the scan front end and the checks and progress lines
 * around it.
 *
 *   main.c          arguments, signals, the status file, main()
 *   app_run.c       one scan: load, refuse what cannot work, resume, run,
 *                   checkpoint, classify and write; phasediag merge
 *   app_report.c    what the user sees before and while it runs: the plan
 *                   of --check, the memory and launcher checks, progress
 *   app_estimate.c  --check's wall-time estimate from a short calibration */
#ifndef PHASEDIAG_APP_H
#define PHASEDIAG_APP_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "phasediag/job/config.h"
#include "phasediag/scan/classify.h"
#include "phasediag/scan/plan.h"
#include "phasediag/scan/runfiles.h"
#include "phasediag/scan/task.h"

#define PD_MAX_MERGE_FILES 4096

typedef struct {
  const char *job, *output;
  const char *status_file;   /* --status-file: the exit status, for scripts */
  const char *progress_json; /* --progress-json: JSON lines, for dashboards */
  int check, quiet, overwrite, group_size, resume;
  int merge;                    /* phasediag merge ... */
  int64_t slice_index, slice_n; /* --slice I/N (n 0: no slicing) */
  int64_t slices;               /* merge --slices N */
  int nfiles;                   /* merge: slice files named */
  const char *files[PD_MAX_MERGE_FILES];
} pd_args;

/* Collective: everything after argument parsing; returns the exit status
 * (0 done, 1 failed, 2 bad input, 3 stopped with a checkpoint).  *stop is
 * set by the signal handlers. */
int pd_app_run(MPI_Comm world, const pd_args *args,
               volatile sig_atomic_t *stop);

/* ---- app_report.c -------------------------------------------------------- */

/* Progress of a scan: one line per finished task with the ETA
 * (pd_sched_options.done), and with --progress-json the same as a JSON
 * object per line in the file json (rank 0). */
typedef struct {
  const pd_plan *plan;
  const pd_job *job;
  int64_t done;
  double work_done, work_total, t0;
  int quiet;
  FILE *json; /* NULL: no JSON lines */
  const char *json_path;
  int json_failed; /* a write failed: said once, no more lines */
} pd_progress;

void pd_app_on_done(int64_t t, const double *rec, void *ctx);

/* "2 groups of 4 ranks", "1 group of 3 ranks", "2 groups of 2 ranks, the
 * last of 3" for size ranks in groups of g (sched.h). */
void pd_app_fmt_groups(int size, int g, char *out, size_t n);

/* Seconds as M:SS or H:MM:SS. */
void pd_app_fmt_time(double s, char *out, size_t n);

/* Collective: the --progress-json file of args, checked and, unless
 * check_only, opened for appending on rank 0 (*json; NULL elsewhere or
 * without the option).  Refused (PD_ERR_CONFIG, exit status 2): a path that
 * is not a regular file, one of the run's own files (spec's job file,
 * inputs, output, checkpoint; the status file), or one that cannot be
 * opened for appending. */
int pd_app_json_open(MPI_Comm world, const pd_args *args,
                     const pd_runfiles_spec *spec, int check_only, FILE **json);

/* Rank 0, with pr->json: the first line (the job: file, tasks, ranks,
 * groups), the last line after classification (points, how many agree with
 * the theorems) or at a stop signal (tasks done, the checkpoint). */
void pd_app_json_start(pd_progress *pr, int ranks, int g, const pd_args *args);
/* Rank 0, with pr->json: the line of finished task t (its record; elapsed
 * and estimated seconds left). */
void pd_app_json_task(pd_progress *pr, int64_t t, const double *rec,
                      double elapsed, double eta);
void pd_app_json_end(pd_progress *pr, const pd_phase *phase);
void pd_app_json_stopped(pd_progress *pr, int64_t saved,
                         const char *checkpoint);

/* Rank 0: the plan of --check (tasks, data, ranks, memory, work). */
void pd_app_print_plan(const pd_plan *plan, const pd_config *cfg,
                       const pd_layout *L, int size, int g);

/* ---- app_estimate.c ------------------------------------------------------ */

/* One calibration width: the wall time of a gradient evaluation, of an
 * accepted step and of a run's start (the lambda_max iterations), gradient
 * evaluations per step, the wall time of one RD record, the initial loss. */
typedef struct {
  int64_t m;
  double eval_seconds, step_seconds, start_seconds, evals_per_step, rd_seconds,
      loss0;
} pd_calib;

/* The cost on this machine of a task of width m on a group of g ranks
 * (scaled to the whole data set): t(m) = a + b m seconds per step, a start
 * of sa + sb m, and r(m) = ra + rb m per RD record; and what they give for
 * the plan. */
typedef struct {
  int ranks, groups, g; /* the scan's ranks in groups of g (sched.h) */
  int64_t samples;      /* the first samples of the data, the calibration's */
  double nscale;        /* n / samples: a pass over the data scales with it */
  int capped;           /* the widest network was too wide to calibrate */
  pd_calib lo, hi;      /* the calibration widths (lo == hi: one width) */
  double a, b;          /* t(m) = a + b m */
  double sa, sb;        /* a run's start */
  double ra, rb;        /* r(m) = ra + rb m */
  double records;       /* RD records per run at most */
  double all_steps;     /* one step of every task: seconds of group time */
  double budget;        /* the wall time if every task used all max_steps */
  double seconds;       /* the calibration's own wall time */
} pd_estimate;

/* Collective: calibrate on the scan's groups of g ranks of world with the
 * job's data and integrator (a second or more: two widths, runs doubled
 * until their difference lasts 0.15 s) and fill est.  data and span are
 * what the networks train on (pd_job's net_data and span). */
int pd_app_estimate(MPI_Comm world, const pd_plan *plan, const pd_config *cfg,
                    const pd_data *data, const pd_span *span, int g,
                    pd_estimate *est);
/* Local: from est's calibration (lo, hi, groups, nscale) the fitted costs
 * and the plan's figures (all_steps, records, budget). */
void pd_app_estimate_finish(pd_estimate *est, const pd_plan *plan,
                            const pd_config *cfg);
/* Rank 0: the estimate in words. */
void pd_app_print_estimate(const pd_estimate *est, const pd_config *cfg,
                           const pd_plan *plan);

/* Collective: refuse a scan that does not fit the node's memory. */
int pd_app_check_memory(MPI_Comm world, const pd_plan *plan,
                        const pd_config *cfg, const pd_layout *L, int g);

/* Collective: say what the group size does with the ranks. */
void pd_app_check_group_size(MPI_Comm world, const pd_plan *plan, int requested,
                             int g);

/* Collective: refuse a launcher that starts single-rank copies. */
int pd_app_check_launcher(MPI_Comm world);

#endif
