/* One scan from its job file to its result file (and phasediag merge).
 *
 * config (rank 0 reads, all get it) -> data -> plan -> refusals before any
 * work (files, memory, disk) -> checkpoint probe and resume -> scheduled
 * training on groups of ranks -> every record in the checkpoint ->
 * classification on rank 0 -> one HDF5 file.
 *
 * Checkpoint and resume: rank 0 saves the completed task records to
 * [run] checkpoint (default OUTPUT.ckpt) every [run] checkpoint_interval
 * seconds and when stopped by a signal.  At start, a checkpoint that
 * belongs to the job (same job file text, record layout, task count and
 * version) is resumed automatically: its tasks are not run again and the
 * result file is bitwise the one an uninterrupted run writes (wall times
 * aside), at any rank count.  A checkpoint of another job, or a damaged
 * one, is refused (exit 2) unless --overwrite, which discards it.
 * --resume insists on resuming (exit 2 if there is no checkpoint).  The
 * checkpoint is removed once the result file is written.  Tasks in flight
 * save their state to CKPT.task-T beside the checkpoint (task.c) at the
 * stop and every checkpoint_interval seconds of their training, and
 * continue from that step on resume, at any rank count.
 *
 * The files of the run (runfiles.h): every refusal comes before training;
 * the output and the checkpoint are locked for the run; the result replaces
 * only what was at the output path at start. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/timer.h"
#include "phasediag/job/dataset.h"
#include "phasediag/observe/observers.h"
#include "phasediag/scan/checkpoint.h"
#include "phasediag/scan/classify.h"
#include "phasediag/scan/output.h"
#include "phasediag/scan/runfiles.h"
#include "phasediag/scan/sched.h"
#include "phasediag/version.h"

/* Largest d x N (doubles) whose span rank 0 factors: 512 MiB */
#define PD_APP_SPAN_MAX (double)(1 << 26)

/* pd_sched_options.save: the periodic checkpoint (rank 0). */
static int save_checkpoint(void *ctx, const double *results) {
  const pd_checkpoint_info *ck = ctx;
  double t0 = MPI_Wtime();
  int64_t nd = 0;
  PD_CALL(pd_checkpoint_write(ck, results, &nd));
  pd_log(MPI_COMM_SELF, PD_LOG_INFO, "checkpoint: %lld tasks in %s (%.3f s)",
         (long long)nd, ck->path, MPI_Wtime() - t0);
  return PD_OK;
}

/* Rank 0 saves every completed record to the checkpoint, in the space
 * held for it; collective. */
static int save_all(MPI_Comm world, const pd_checkpoint_info *ck,
                    const double *results, pd_runfiles *rf, int64_t *saved) {
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(world, &rank));
  int err = PD_OK;
  if (rank == 0) {
    pd_runfiles_unreserve(rf);
    err = pd_checkpoint_write(ck, results, saved);
  }
  return pd_error_collective(world, err, __FILE__, __LINE__);
}

/* The slice file of slice i of n: OUTPUT.slice-I-of-N.ckpt. */
static void pd_slice_path(const char *output, int64_t i, int64_t n, char *path,
                          size_t size) {
  snprintf(path, size, "%s.slice-%lld-of-%lld.ckpt", output, (long long)i,
           (long long)n);
}

/* Classify the complete records (rank 0), print the table (and the last
 * progress line, pr not NULL) and write the result file.  Collective. */
static int finish(MPI_Comm world, const pd_job *job, const pd_plan *plan,
                  const char *text, const double *results,
                  const pd_runfiles *rf, int g, double seconds,
                  pd_progress *pr) {
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  const pd_config *cfg = job->cfg;
  pd_phase *phase = NULL;
  int err = PD_OK;
  double t0 = MPI_Wtime();
  if (rank == 0) {
    err = pd_classify(plan, cfg, &job->layout, results, &phase);
    if (!err) pd_phase_print(stdout, plan, phase);
    if (!err && pr) pd_app_json_end(pr, phase);
    fflush(stdout);
  }
  err = pd_error_collective(world, err, __FILE__, __LINE__);
  if (!err) {
    pd_provenance prov = {.config_text = text,
                          .mpi_ranks = size,
                          .group_size = g,
                          .wall_seconds = seconds};
    /* attributes are written collectively: every rank must pass rank 0's */
    MPI_Bcast(&prov.wall_seconds, 1, MPI_DOUBLE, 0, world);
    err = pd_output_write(world, cfg->output, &rf->output_at_start, plan, job,
                          results, phase, &prov);
  }
  pd_phase_destroy(&phase);
  PD_CALL(err);
  pd_log(world, PD_LOG_INFO, "wrote %s (%.1f s)", cfg->output,
         seconds + MPI_Wtime() - t0);
  return PD_OK;
}

/* phasediag merge: the slices' records into one result file.  Returns the
 * exit status. */
static int merge(MPI_Comm world, const pd_args *args, const pd_job *job,
                 const pd_plan *plan, const char *text, const pd_runfiles *rf,
                 int g) {
  int rank;
  MPI_Comm_rank(world, &rank);
  const int64_t len = job->layout.len, nt = plan->ntasks;
  const int nfiles = args->nfiles ? args->nfiles : (int)args->slices;
  double *results = NULL;
  int err = rank == 0 ? pd_calloc((size_t)(nt * len), sizeof(double), &results)
                      : PD_OK;
  int64_t have = 0, first_missing = -1;
  if (!err && rank == 0) {
    for (int64_t t = 0; t < nt; t++)
      pd_record_clear(&job->layout, results + t * len);
    for (int i = 0; i < nfiles && !err; i++) {
      char path[PD_CONFIG_MAX_PATH + 64];
      if (args->nfiles)
        snprintf(path, sizeof path, "%s", args->files[i]);
      else
        pd_slice_path(job->cfg->output, i, args->slices, path, sizeof path);
      pd_checkpoint_info ck = {.path = path,
                               .job = args->job,
                               .config_text = text,
                               .ntasks = nt,
                               .len = len};
      int exists = 0;
      int64_t n = 0;
      err = pd_checkpoint_probe(&ck, &exists, &n);
      if (!err && !exists)
        err = pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                             "merge: slice file %s does not exist", path);
      if (!err) err = pd_checkpoint_read(&ck, results, &n);
    }
    for (int64_t t = 0; t < nt && !err; t++)
      if (results[t * len + PD_R_TASK] >= 0)
        have++;
      else if (first_missing < 0)
        first_missing = t;
    if (!err && have < nt) {
      int p, w, sd;
      pd_plan_task(plan, first_missing, &p, &w, &sd);
      err = pd_error_raise(
          PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
          "merge: %lld of %lld tasks are in the %d slice file%s; missing, "
          "e.g., task %lld (gamma %g, gamma' %g, width %lld, seed %llu): is "
          "a slice unfinished?",
          (long long)have, (long long)nt, nfiles, nfiles > 1 ? "s" : "",
          (long long)first_missing, plan->points[p].gamma,
          plan->points[p].gamma_prime, (long long)plan->widths[w],
          (unsigned long long)plan->seeds[sd]);
    }
  }
  /* a missing, foreign or unreadable slice is bad input (2); a failed
   * write is not (1) */
  int status = 2;
  err = pd_error_collective(world, err, __FILE__, __LINE__);
  if (!err) {
    pd_log(world, PD_LOG_INFO, "merge: %lld tasks from %d slice file%s",
           (long long)nt, nfiles, nfiles > 1 ? "s" : "");
    status = 1;
    err = finish(world, job, plan, text, results, rf, g, 0, NULL);
  }
  pd_free(&results);
  if (!err) return 0;
  if (rank == 0) fprintf(stderr, "phasediag: error: %s\n", pd_error_message());
  return status;
}

/* Everything one run holds, freed in one place (pd_app_free). */
typedef struct {
  MPI_Comm world;
  int rank, size, g;
  const pd_args *args;
  pd_config *cfg;
  char *text;
  pd_data *data, *test;
  pd_span *span;          /* the data's span, where the networks train in it */
  pd_data *zdata, *ztest; /* data and test in the span's coordinates */
  pd_plan *plan;
  pd_job job;
  char ckpath[PD_CONFIG_MAX_PATH + 64];
  const char *inputs[3], *what[3]; /* the files it reads */
  pd_runfiles_spec spec;
  pd_runfiles rf;
  pd_checkpoint_info ck;
  double rec_bytes; /* the records of every task */
  int resume;       /* a checkpoint of this job exists */
  double *results;  /* rank 0: every task's record */
  FILE *json;       /* rank 0: --progress-json, NULL without */
} pd_app;

static void pd_app_free(pd_app *a) {
  if (a->json) fclose(a->json);
  pd_runfiles_close(&a->rf);
  pd_free(&a->results);
  pd_plan_destroy(&a->plan);
  pd_data_destroy(&a->data);
  pd_data_destroy(&a->test);
  pd_data_destroy(&a->zdata);
  pd_data_destroy(&a->ztest);
  pd_span_destroy(&a->span);
  pd_free(&a->text);
  pd_free(&a->cfg);
}

/* Where it is smaller than the input space, the networks train in the
 * span of every point they see, training and test (span.h): its basis and
 * the points' coordinates in it.  [spectral] looks at the inputs'
 * coordinates (projections, grids) and keeps the input space; so do data
 * sets too large to factor on one rank (the pivoted QR holds d x N). */
static int pd_app_span(pd_app *a) {
  const pd_data *sets[2] = {a->data, a->test};
  const int d = a->data->d;
  const double points = (double)a->data->n + (a->test ? a->test->n : 0);
  if (a->cfg->span == PD_SPAN_OFF || a->cfg->spectral || d == 1) return PD_OK;
  if ((double)d * points > PD_APP_SPAN_MAX) {
    pd_log(a->world, PD_LOG_INFO,
           "%.0f points in %d dimensions are too many to factor on one "
           "rank: the input weights train in the input space",
           points, d);
    return PD_OK;
  }
  PD_CALL(pd_span_create(a->world, sets, 2, &a->span));
  const int r = pd_span_rank(a->span);
  if (r >= d) {
    pd_span_destroy(&a->span);
    return PD_OK;
  }
  int err = pd_span_project(a->span, a->data, &a->zdata);
  if (!err && a->test) err = pd_span_project(a->span, a->test, &a->ztest);
  PD_CALL(pd_error_collective(a->world, err, __FILE__, __LINE__));
  a->job.span = a->span;
  a->job.net_data = a->zdata;
  a->job.net_test = a->ztest;
  a->plan->dnet = r;
  pd_log(a->world, PD_LOG_INFO,
         "the inputs span %d of %d dimensions: the input weights train in "
         "that span ([model] span)",
         r, d);
  return PD_OK;
}

/* The job: config (with the command line's overrides), data, record
 * layout, plan, group size, the checkpoint's path and the files the run
 * reads and writes. */
static int pd_app_load(pd_app *a) {
  const pd_args *args = a->args;
  PD_CALL(pd_calloc(1, sizeof *a->cfg, &a->cfg));
  PD_CALL(pd_config_load(a->world, args->job, a->cfg, &a->text));
  pd_config *cfg = a->cfg;
  if (args->output)
    snprintf(cfg->output, sizeof cfg->output, "%s", args->output);
  if (args->overwrite) cfg->overwrite = 1;
  if (args->group_size > 0) cfg->group_size = args->group_size;
  PD_CALL(pd_dataset_load_sets(a->world, cfg, &a->data, &a->test));
  a->job = (pd_job){.cfg = cfg,
                    .data = a->data,
                    .test = a->test,
                    .net_data = a->data,
                    .net_test = a->test};
  PD_CALL(pd_layout_init(&a->job.layout, cfg, a->data, a->test));
  PD_CALL(pd_plan_create(cfg, a->data->n, a->data->d, &a->plan));
  PD_CALL(pd_app_span(a));
  a->g = pd_sched_group_size(a->plan, a->size, cfg->group_size);
  pd_app_check_group_size(a->world, a->plan, cfg->group_size, a->g);
  if (args->slice_n)
    pd_slice_path(cfg->output, args->slice_index, args->slice_n, a->ckpath,
                  sizeof a->ckpath);
  else if (cfg->checkpoint[0])
    snprintf(a->ckpath, sizeof a->ckpath, "%s", cfg->checkpoint);
  else
    pd_checkpoint_default_path(cfg->output, a->ckpath, sizeof a->ckpath);
  int n = 0;
  if (cfg->source == PD_DATA_HDF5)
    a->inputs[n] = cfg->data_file, a->what[n++] = "data file";
  if (cfg->source == PD_DATA_IDX) {
    a->inputs[n] = cfg->images, a->what[n++] = "image file";
    a->inputs[n] = cfg->labels, a->what[n++] = "label file";
  }
  a->spec = (pd_runfiles_spec){.job = args->job,
                               /* a slice writes no result file (the merge
                                * does), a merge no checkpoint */
                               .output = args->slice_n ? NULL : cfg->output,
                               .checkpoint = args->merge ? NULL : a->ckpath,
                               .overwrite = cfg->overwrite,
                               .ntasks = a->plan->ntasks,
                               .hash = pd_checkpoint_hash(a->text),
                               .ninputs = n,
                               .inputs = a->inputs,
                               .input_what = a->what};
  if (args->merge) { /* the slice files named are inputs */
    a->spec.inputs = args->files;
    a->spec.input_what = NULL;
    a->spec.ninputs = args->nfiles;
  }
  a->rec_bytes = (double)a->plan->ntasks * (double)a->job.layout.len * 8.0;
  return PD_OK;
}

/* Rank 0 looks at the checkpoint: resume it, refuse it (another job's or
 * damaged, unless --overwrite discards it), or insist on it (--resume). */
static int pd_app_probe(pd_app *a) {
  const pd_args *args = a->args;
  int64_t restored = 0;
  int err = PD_OK;
  if (a->rank == 0) {
    err = pd_checkpoint_probe(&a->ck, &a->resume, &restored);
    if (err && !args->overwrite) {
      /* never discarded without being asked */
      char why[1024];
      snprintf(why, sizeof why, "%.*s", (int)strcspn(pd_error_message(), "\n"),
               pd_error_message());
      err = pd_error_raise(
          PD_ERR_CONFIG, __FILE__, __LINE__, __func__, "%s%s", why,
          strstr(why, "--overwrite") ? ""
                                     : "; remove it, or pass --overwrite to "
                                       "discard it and start over");
    } else if (err) {
      pd_log(a->world, PD_LOG_WARN, "discarding %s (--overwrite): %s",
             a->ckpath, pd_error_message());
      pd_error_clear();
      err = PD_OK;
      a->resume = 0;
    } else if (args->resume && !a->resume) {
      err = pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                           "--resume: there is no checkpoint %s for job %s",
                           a->ckpath, args->job);
    }
  }
  PD_CALL(pd_error_collective(a->world, err, __FILE__, __LINE__));
  /* written on a stop signal even when checkpoint_interval = 0; beside it
   * the state of every group's running task, twice while one replaces the
   * other */
  const double state_bytes =
      2.0 * (double)(a->size / a->g) *
      ((double)(a->plan->dnet + 2) * (double)pd_plan_max_width(a->plan) * 8.0 +
       (double)a->job.layout.len * 8.0 + 1e5);
  PD_CALL(pd_checkpoint_check_space(a->world, a->ckpath,
                                    a->rec_bytes * 2.2 + state_bytes + 1e6,
                                    "checkpoint"));
  /* room for the final checkpoint whatever fills the disk meanwhile */
  PD_CALL(pd_runfiles_reserve(a->world, a->ckpath, a->rec_bytes * 1.1 + 1e6,
                              &a->rf));
  return PD_OK;
}

/* Rank 0's records: empty, or the checkpoint's (and the stale state files
 * of the tasks it holds removed); every rank learns whether it resumes. */
static int pd_app_restore(pd_app *a) {
  const pd_plan *plan = a->plan;
  const int64_t len = a->job.layout.len, nt = plan->ntasks;
  int64_t restored = 0;
  int err = a->rank == 0
                ? pd_calloc((size_t)(nt * len), sizeof(double), &a->results)
                : PD_OK;
  if (!err && a->rank == 0 && a->resume) {
    for (int64_t t = 0; t < nt; t++)
      pd_record_clear(&a->job.layout, a->results + t * len);
    err = pd_checkpoint_read(&a->ck, a->results, &restored);
  }
  if (!err && a->rank == 0 && a->resume) {
    unsigned char *done = NULL;
    err = pd_calloc((size_t)nt, 1, &done);
    for (int64_t t = 0; !err && t < nt; t++)
      done[t] = a->results[t * len + PD_R_TASK] >= 0;
    if (!err) err = pd_checkpoint_remove_task_states(a->ckpath, nt, done, NULL);
    pd_free(&done);
  }
  PD_CALL(pd_error_collective(a->world, err, __FILE__, __LINE__));
  PD_CALL_MPI(MPI_Bcast(&a->resume, 1, MPI_INT, 0, a->world));
  return PD_OK;
}

/* The progress lines count this run's work: a slice's tasks, less what
 * the checkpoint already holds. */
static void pd_app_progress(const pd_app *a, const pd_sched_options *so,
                            pd_progress *pr) {
  const pd_plan *plan = a->plan;
  for (int64_t t = 0; t < plan->ntasks; t++) {
    int p, w, sd;
    pd_plan_task(plan, t, &p, &w, &sd);
    const double work = (double)plan->widths[w] * (double)plan->n;
    if (a->args->slice_n > 1 && !pd_sched_in_slice(so, t))
      pr->work_total -= work;
    else if (a->rank == 0 && a->resume &&
             a->results[t * a->job.layout.len + PD_R_TASK] >= 0) {
      pr->done++;
      pr->work_total -= work;
    }
  }
}

/* The scheduled training and its end: a stop (*status 3), a slice's
 * records (0), or every record in the checkpoint, then the result file (0,
 * or 1 with the records safe, said here).  Returns the error left to
 * print. */
static int pd_app_scan(pd_app *a, volatile sig_atomic_t *stop, int *status) {
  const pd_args *args = a->args;
  const pd_plan *plan = a->plan;
  pd_log(a->world, PD_LOG_INFO,
         "phasediag %s: %d points x %d widths x %d seeds = %lld tasks on %d "
         "rank%s (%d group%s of %d)",
         PD_VERSION, plan->P, plan->W, plan->S, (long long)plan->ntasks,
         a->size, a->size > 1 ? "s" : "", a->size / a->g,
         a->size / a->g > 1 ? "s" : "", a->g);
  /* progress weighs a task by its neuron-sample work per step */
  pd_progress pr = {.plan = plan,
                    .job = &a->job,
                    .t0 = MPI_Wtime(),
                    .quiet = args->quiet,
                    .work_total = pd_plan_work_per_step(plan),
                    .json = a->json,
                    .json_path = args->progress_json};
  pd_sched_options so = {.done = pd_app_on_done,
                         .ctx = &pr,
                         .save = save_checkpoint,
                         .save_ctx = &a->ck,
                         .save_interval = a->cfg->checkpoint_interval,
                         .state_interval = a->cfg->checkpoint_interval,
                         .stop = stop,
                         .resume = a->resume,
                         .slice_index = args->slice_index,
                         .slice_count = args->slice_n};
  pd_app_progress(a, &so, &pr);
  if (a->rank == 0) pd_app_json_start(&pr, a->size, a->g, args);
  if (a->resume)
    pd_log(a->world, PD_LOG_INFO, "resuming from %s: %lld of %lld tasks done",
           a->ckpath, (long long)pr.done, (long long)plan->ntasks);
  const double t0 = MPI_Wtime();
  int err = pd_sched_run(a->world, plan, &a->job, a->g, a->results, &so);
  int64_t saved = 0;
  if (err == PD_ERR_INTERRUPTED) {
    pd_error_clear();
    PD_CALL(save_all(a->world, &a->ck, a->results, &a->rf, &saved));
    if (a->rank == 0) pd_app_json_stopped(&pr, saved, a->ckpath);
    pd_log(a->world, PD_LOG_WARN,
           "stopped by a signal: %lld of %lld tasks done, saved in %s; run "
           "the same command again to resume (exit status 3)",
           (long long)saved, (long long)plan->ntasks, a->ckpath);
    *status = 3;
    return PD_OK;
  }
  PD_CALL(err);
  /* every record on disk before the result file is attempted: a failure
   * there (a full disk) then loses nothing */
  const int serr = save_all(a->world, &a->ck, a->results, &a->rf, &saved);
  const int saved_all = serr == PD_OK;
  if (args->slice_n) { /* the slice's records are its result */
    PD_CALL(serr);
    pd_log(a->world, PD_LOG_INFO,
           "slice %lld/%lld: %lld of %lld tasks, saved in %s (combine the "
           "slices with phasediag merge)",
           (long long)args->slice_index, (long long)args->slice_n,
           (long long)saved, (long long)plan->ntasks, a->ckpath);
    *status = 0;
    return PD_OK;
  }
  if (!saved_all) { /* the result file may still succeed */
    pd_log(a->world, PD_LOG_WARN, "%s", pd_error_message());
    pd_error_clear();
  }
  err = finish(a->world, &a->job, plan, a->text, a->results, &a->rf, a->g,
               MPI_Wtime() - t0, &pr);
  if (err && !saved_all) return err;
  if (err) {
    if (a->rank == 0)
      fprintf(stderr,
              "phasediag: error: %s\nphasediag: the records of all %lld "
              "tasks are saved in %s: fix the cause above and run the same "
              "command again; it resumes from the checkpoint, trains "
              "nothing and writes %s\n",
              pd_error_message(), (long long)plan->ntasks, a->ckpath,
              a->cfg->output);
    return PD_OK; /* *status stays 1: said */
  }
  /* the result file is complete: the checkpoint has served */
  err = a->rank == 0 ? pd_checkpoint_remove(&a->ck) : PD_OK;
  if (!err && a->rank == 0)
    err = pd_checkpoint_remove_task_states(a->ckpath, plan->ntasks, NULL, NULL);
  if (err) {
    pd_log(a->world, PD_LOG_WARN, "%s", pd_error_message());
    pd_error_clear();
  }
  if (!args->quiet) pd_timer_report(a->world, stderr);
  *status = 0;
  return PD_OK;
}

/* --check: the files, then the plan, then the wall-time estimate.  The
 * calibration trains on the job's data, so not where the scan would not
 * fit; a calibration that cannot be made is said, and --check still
 * succeeds: the plan is what was asked for. */
static int pd_app_check_only(pd_app *a) {
  PD_CALL(pd_runfiles_check(a->world, &a->spec));
  PD_CALL(pd_app_json_open(a->world, a->args, &a->spec, 1, &a->json));
  if (a->rank == 0) {
    pd_app_print_plan(a->plan, a->cfg, &a->job.layout, a->size, a->g);
    fflush(stdout);
  }
  pd_estimate est;
  int err =
      pd_app_check_memory(a->world, a->plan, a->cfg, &a->job.layout, a->g);
  if (!err)
    err = pd_app_estimate(a->world, a->plan, a->cfg, a->job.net_data,
                          a->job.span, a->g, &est);
  if (a->rank == 0 && err)
    printf("time: not calibrated: %.*s\n",
           (int)strcspn(pd_error_message(), "\n"), pd_error_message());
  else if (a->rank == 0)
    pd_app_print_estimate(&est, a->cfg, a->plan);
  pd_error_clear();
  return PD_OK;
}

int pd_app_run(MPI_Comm world, const pd_args *args,
               volatile sig_atomic_t *stop) {
  pd_app a = {.world = world, .args = args};
  MPI_Comm_rank(world, &a.rank);
  MPI_Comm_size(world, &a.size);
  int status = 2, err = pd_app_check_launcher(world);
  if (!err) err = pd_app_load(&a);
  if (!err && args->check) {
    err = pd_app_check_only(&a);
    if (!err) status = 0;
  } else if (!err) {
    if (!args->merge)
      err = pd_app_check_memory(world, a.plan, a.cfg, &a.job.layout, a.g);
    if (!err) err = pd_runfiles_open(world, &a.spec, &a.rf);
    /* the result file holds the records (and a little more) */
    if (!err)
      err = pd_checkpoint_check_space(world, a.cfg->output,
                                      a.rec_bytes * 1.2 + 1e6, "output file");
    if (!err) err = pd_app_json_open(world, args, &a.spec, 0, &a.json);
    if (!err && args->merge) {
      status = merge(world, args, &a.job, a.plan, a.text, &a.rf, a.g);
    } else if (!err) {
      a.ck = (pd_checkpoint_info){.path = a.ckpath,
                                  .job = args->job,
                                  .config_text = a.text,
                                  .ntasks = a.plan->ntasks,
                                  .len = a.job.layout.len};
      /* tasks in flight save their state beside the checkpoint (task.h) */
      a.job.state_prefix = a.ckpath;
      a.job.config_hash = a.spec.hash;
      err = pd_app_probe(&a);
      if (!err) {
        status = 1; /* from here on a failure is not the input's fault */
        err = pd_app_restore(&a);
      }
      if (!err) err = pd_app_scan(&a, stop, &status);
    }
  }
  /* rank 0 speaks for all; other ranks add their own cause if it is theirs */
  if (err && (a.rank == 0 || (err != PD_ERR_PEER && status == 1)))
    fprintf(stderr, "phasediag: error: %s\n", pd_error_message());
  pd_app_free(&a);
  return status;
}
