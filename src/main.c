/* phasediag command-line front end: the phase-diagram scan.
 *
 *   mpirun -np P phasediag [options] JOB.ini
 *
 * config (rank 0 reads, all get it) -> data -> plan -> scheduled training
 * on groups of ranks -> classification on rank 0 -> one HDF5 file.
 *
 * Exit status: 0 success; 1 failure while running; 2 bad input (nothing is
 * written); 3 stopped by SIGTERM, SIGUSR1, SIGINT or SIGHUP with a
 * checkpoint written: "requeue me" -- the same command resumes the scan.
 * --status-file FILE records it for scripts behind a launcher that returns
 * its own code.
 *
 * The files of the run (runfiles.h): every refusal comes before training;
 * the output and the checkpoint are locked for the run; the result replaces
 * only what was at the output path at start.
 *
 * Checkpoint and resume: rank 0 saves the completed task records to
 * [run] checkpoint (default OUTPUT.ckpt) every [run] checkpoint_interval
 * seconds and when stopped by a signal.  At start, a checkpoint that
 * belongs to the job (same job file text, record layout, task count and
 * version) is resumed automatically: its tasks are not run again and the
 * result file is bitwise the one an uninterrupted run writes (wall times
 * aside), at any rank count.  A checkpoint of another job is refused (exit
 * 2) unless --overwrite, which discards it.  --resume insists on resuming
 * (exit 2 if there is no checkpoint).  The checkpoint is removed once the
 * result file is written.  Tasks in flight save their state to
 * CKPT.task-T beside the checkpoint (task.c) at the stop and every
 * checkpoint_interval seconds of their training, and continue from that
 * step on resume, at any rank count; those files go with the checkpoint. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/checkpoint.h"
#include "phasediag/classify.h"
#include "phasediag/config.h"
#include "phasediag/conftext.h"
#include "phasediag/dataset.h"
#include "phasediag/error.h"
#include "phasediag/files.h"
#include "phasediag/log.h"
#include "phasediag/mem.h"
#include "phasediag/memest.h"
#include "phasediag/output.h"
#include "phasediag/plan.h"
#include "phasediag/runfiles.h"
#include "phasediag/sched.h"
#include "phasediag/task.h"
#include "phasediag/timer.h"
#include "phasediag/train.h"
#include "phasediag/version.h"

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: mpirun -np P phasediag [options] JOB.ini\n"
      "\n"
      "Scan the phase diagram of wide two-layer ReLU networks\n"
      "  f(x) = (1/alpha) sum_k a_k relu(w_k . (x, 1)),  a ~ N(0, beta1^2), w "
      "~ N(0, beta2^2)\n"
      "over the grid points (gamma, gamma') and named schemes of JOB.ini: "
      "train every\n"
      "width and seed (neurons sharded over the ranks of a group, groups fed "
      "tasks\n"
      "dynamically), measure RD = |theta_w(t*) - theta_w(0)| / |theta_w(0)|, "
      "fit the\n"
      "slope of log RD against log m per point and classify it as linear, "
      "critical\n"
      "or condensed next to Theorems 1 and 2.  Results go to one HDF5 file.\n"
      "\n"
      "options:\n"
      "  --check          validate JOB.ini, print the plan with memory and "
      "work\n"
      "                   estimates, run nothing\n"
      "  --output FILE    write FILE instead of [output] file\n"
      "  --overwrite      replace an existing output file\n"
      "  --group-size G   ranks per training group (default: [run] group_size, "
      "or\n"
      "                   automatic: one rank per 2^18 neurons of the widest "
      "net)\n"
      "  --quiet          no progress lines (errors and the final table only)\n"
      "  --resume         resume from the checkpoint ([run] checkpoint, "
      "default\n"
      "                   OUTPUT.ckpt); without it a checkpoint of this job "
      "is\n"
      "                   resumed when it exists, and one of another job is\n"
      "                   refused (--overwrite discards it)\n"
      "  --slice I/N      run only the tasks t with t mod N = I (a job-array "
      "slice)\n"
      "                   and save their records to OUTPUT.slice-I-of-N.ckpt\n"
      "  --status-file F  write the exit status and its meaning to F at the "
      "end (for\n"
      "                   scripts: mpirun stopped by a signal returns 1 "
      "whatever\n"
      "                   the ranks did)\n"
      "  --help-config    print the job file keys as a Markdown table (type, "
      "range,\n"
      "                   default, meaning): the README's table\n"
      "  --version, --help\n"
      "\n"
      "  phasediag merge [--slices N | SLICE.ckpt ...] [--output FILE] "
      "[--overwrite] JOB.ini\n"
      "                   (the job file and the slice files in any order)\n"
      "                   combine the slices (OUTPUT.slice-I-of-N.ckpt, I < N, "
      "or the\n"
      "                   files named), classify and write the result file\n"
      "\n"
      "The step size is automatic (capped by 1/lambda_max of the Gram matrix, "
      "grown\n"
      "while accepted, halved when the loss rises): there is no learning "
      "rate.\n"
      "Job file keys: phasediag --help-config (the README's table).\n"
      "Exit status: 0 success; 2 bad input (arguments, job file, data, "
      "refused\n"
      "output file or checkpoint; nothing is written); 1 failure while "
      "running;\n"
      "3 stopped by SIGTERM, SIGUSR1, SIGINT or SIGHUP (on any rank): a "
      "checkpoint\n"
      "was written, run the same command again to resume (\"requeue me\").  "
      "mpirun\n"
      "itself stopped by SIGTERM, SIGINT or SIGHUP passes the signal on but "
      "returns 1;\n"
      "--status-file records the 3.\n"
      "Files: the output and the checkpoint are locked (PATH.lock) for the "
      "run; the\n"
      "output never replaces an input of the job, a directory or a device, "
      "and a file\n"
      "that appears at the output path during the run is kept (the result "
      "stays in\n"
      "OUTPUT.tmp).\n");
}

#define PD_MAX_MERGE_FILES 4096

typedef struct {
  const char *job, *output;
  const char *status_file; /* --status-file: the exit status, for scripts */
  int check, quiet, overwrite, group_size, resume;
  int merge;                    /* phasediag merge ... */
  int64_t slice_index, slice_n; /* --slice I/N (n 0: no slicing) */
  int64_t slices;               /* merge --slices N */
  int nfiles;                   /* merge: slice files named */
  const char *files[PD_MAX_MERGE_FILES];
} pd_args;

/* Set by SIGTERM / SIGUSR1; the scheduler turns it into an orderly stop. */
static volatile sig_atomic_t pd_stop_requested = 0;

static void pd_on_signal(int sig) {
  (void)sig;
  pd_stop_requested = 1; /* async-signal-safe: a flag, nothing else */
}

static int pd_install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pd_on_signal;
  sa.sa_flags = SA_RESTART;
  /* SIGINT and SIGHUP too: Ctrl-C or a closed terminal (mpirun passes
   * them on as SIGTERM; a rank started alone gets them itself) */
  PD_CHECK(sigemptyset(&sa.sa_mask) == 0 &&
               sigaction(SIGTERM, &sa, NULL) == 0 &&
               sigaction(SIGUSR1, &sa, NULL) == 0 &&
               sigaction(SIGINT, &sa, NULL) == 0 &&
               sigaction(SIGHUP, &sa, NULL) == 0,
           PD_ERR_ARG, "cannot install the signal handlers");
  return PD_OK;
}

/* An HDF5 file by its signature (a slice file, not a job file); what is
 * not a regular file is not read. */
static int is_hdf5(const char *path) {
  pd_file_id id;
  if (pd_file_id_of(path, &id) != PD_OK || !id.exists || !S_ISREG(id.mode)) {
    pd_error_clear();
    return 0;
  }
  unsigned char sig[8] = {0};
  FILE *f = fopen(path, "rb");
  int ok =
      f && fread(sig, 1, 8, f) == 8 && memcmp(sig, "\211HDF\r\n\032\n", 8) == 0;
  if (f) fclose(f);
  return ok;
}

/* phasediag merge takes the job file and the slice files in any order: the
 * job file is the one argument that is not an HDF5 file.  0, or 2 with a
 * message. */
static int merge_pick_job(pd_args *a, int rank) {
  int job = -1, others = 0;
  if (a->nfiles == 0) return 0; /* "no job file given" follows */
  for (int i = 0; i < a->nfiles; i++)
    if (!is_hdf5(a->files[i])) {
      if (job >= 0) others++;
      if (job < 0) job = i;
    }
  if (job < 0 || others > 0) {
    if (rank == 0)
      fprintf(stderr,
              job < 0 ? "phasediag merge: no job file among the arguments "
                        "(all are HDF5 files; give the job's .ini file)\n"
                      : "phasediag merge: expected one job file and slice "
                        "checkpoints (HDF5 files), but %d arguments are not "
                        "HDF5 files (a slice file missing?)\n",
              others + 1);
    return 2;
  }
  a->job = a->files[job];
  for (int i = job; i + 1 < a->nfiles; i++) a->files[i] = a->files[i + 1];
  a->nfiles--;
  return 0;
}

/* 0 ok, 1 done (help/version), 2 usage error */
static int parse_args(int argc, char **argv, pd_args *a, int rank) {
  *a = (pd_args){.group_size = -1};
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
      if (rank == 0) usage(stdout);
      return 1;
    } else if (!strcmp(s, "--help-config")) {
      if (rank == 0 && pd_conftext_help(stdout) != PD_OK) {
        fprintf(stderr, "phasediag: %s\n", pd_error_message());
        return 2;
      }
      return 1;
    } else if (!strcmp(s, "--version")) {
      if (rank == 0) printf("phasediag %s (%s)\n", PD_VERSION, PD_GIT_COMMIT);
      return 1;
    } else if (!strcmp(s, "--check")) {
      a->check = 1;
    } else if (!strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else if (!strcmp(s, "--overwrite")) {
      a->overwrite = 1;
    } else if (!strcmp(s, "--resume")) {
      a->resume = 1;
    } else if (i == 1 && !strcmp(s, "merge")) {
      a->merge = 1;
    } else if (!strcmp(s, "--slice") || !strcmp(s, "--slices")) {
      if (i + 1 >= argc) {
        if (rank == 0) fprintf(stderr, "phasediag: %s needs a value\n", s);
        return 2;
      }
      const char *v = argv[++i];
      char *end;
      long long x = strtoll(v, &end, 10), y = 0;
      int ok = end != v;
      if (!strcmp(s, "--slice")) {
        ok = ok && *end == '/';
        if (ok) {
          const char *w = end + 1;
          y = strtoll(w, &end, 10);
          ok = end != w && *end == '\0' && y >= 1 && y <= 1 << 20 && x >= 0 &&
               x < y;
        }
        a->slice_index = x;
        a->slice_n = y;
      } else {
        ok = ok && *end == '\0' && x >= 1 && x <= 1 << 20;
        a->slices = x;
      }
      if (!ok) {
        if (rank == 0)
          fprintf(stderr, "phasediag: %s: expected %s, got '%s'\n", s,
                  !strcmp(s, "--slice") ? "I/N with 0 <= I < N (e.g. 3/8)"
                                        : "a positive number of slices",
                  v);
        return 2;
      }
    } else if (!strcmp(s, "--output") || !strcmp(s, "--group-size") ||
               !strcmp(s, "--status-file")) {
      if (i + 1 >= argc) {
        if (rank == 0) fprintf(stderr, "phasediag: %s needs a value\n", s);
        return 2;
      }
      const char *v = argv[++i];
      if (!strcmp(s, "--output")) {
        a->output = v;
      } else if (!strcmp(s, "--status-file")) {
        a->status_file = v;
      } else {
        char *end;
        long g = strtol(v, &end, 10);
        if (*v == '\0' || *end || g < 1 || g > 1 << 24) {
          if (rank == 0)
            fprintf(stderr,
                    "phasediag: --group-size: expected a positive integer, "
                    "got '%s'\n",
                    v);
          return 2;
        }
        a->group_size = (int)g;
      }
    } else if (s[0] == '-') {
      if (rank == 0)
        fprintf(stderr, "phasediag: unknown option '%s' (see --help)\n", s);
      return 2;
    } else if (a->merge) { /* the job file is picked out below */
      if (a->nfiles == PD_MAX_MERGE_FILES) {
        if (rank == 0)
          fprintf(stderr, "phasediag merge: more than %d slice files\n",
                  PD_MAX_MERGE_FILES);
        return 2;
      }
      a->files[a->nfiles++] = s;
    } else if (a->job) {
      if (rank == 0)
        fprintf(stderr, "phasediag: one job file expected, got '%s' and '%s'\n",
                a->job, s);
      return 2;
    } else {
      a->job = s;
    }
  }
  if (a->merge && merge_pick_job(a, rank) != 0) return 2;
  if (!a->job) {
    if (rank == 0)
      fprintf(stderr,
              "phasediag: no job file given (try jobs/grid.ini; see "
              "--help)\n");
    return 2;
  }
  const char *bad = a->merge && a->slice_n ? "--slice does not go with merge"
                    : a->merge && (a->slices > 0) == (a->nfiles > 0)
                        ? "merge: give --slices N or the slice files, not "
                          "both (or neither)"
                    : !a->merge && (a->slices || a->nfiles)
                        ? "--slices goes with merge"
                    : a->merge && (a->check || a->resume)
                        ? "--check and --resume do not go with merge"
                        : NULL;
  if (bad) {
    if (rank == 0) fprintf(stderr, "phasediag: %s (see --help)\n", bad);
    return 2;
  }
  return 0;
}

typedef struct {
  const pd_plan *plan;
  const pd_job *job;
  int64_t done;
  double work_done, work_total, t0;
  int quiet;
} pd_progress;

static void fmt_time(double s, char *out, size_t n) {
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

static void on_done(int64_t t, const double *rec, void *ctx) {
  pd_progress *pr = ctx;
  int p, w, s;
  pd_plan_task(pr->plan, t, &p, &w, &s);
  pr->done++;
  pr->work_done += (double)pr->plan->widths[w] * (double)pr->plan->n;
  if (pr->quiet) return;
  double el = MPI_Wtime() - pr->t0;
  double eta = pr->work_done > 0
                   ? el * (pr->work_total - pr->work_done) / pr->work_done
                   : 0;
  char e1[32], e2[32];
  fmt_time(el, e1, sizeof e1);
  fmt_time(eta, e2, sizeof e2);
  const pd_point *pt = &pr->plan->points[p];
  char what[160];
  if (isnan(rec[PD_R_STEPS])) /* stopped before its first step */
    snprintf(what, sizeof what,
             "not trained: the initial scales are out of range (overflow)");
  else
    snprintf(what, sizeof what, "%.0f steps, loss %.2e, rd_w %.4g, %.2fs",
             rec[PD_R_STEPS], rec[PD_R_LOSS], rec[PD_R_RDW], rec[PD_R_SECONDS]);
  fprintf(stderr,
          "[%*lld/%lld] (%.4g, %.4g)%s%s m=%lld seed %llu: %s, %s | elapsed "
          "%s, ETA %s\n",
          (int)log10((double)pr->plan->ntasks) + 1, (long long)pr->done,
          (long long)pr->plan->ntasks, pt->gamma, pt->gamma_prime,
          pt->label[0] ? " " : "", pt->label, (long long)pr->plan->widths[w],
          (unsigned long long)pr->plan->seeds[s],
          pd_status_name((int)rec[PD_R_STATUS]), what, e1, e2);
  const pd_layout *L = &pr->job->layout;
  if (L->methods)
    fprintf(stderr,
            "    F-Principle: rank correlation (frequency, step) %.3f%s\n",
            rec[PD_R_VERDICT],
            rec[PD_R_VERDICT] > 0.5    ? ": low frequencies first"
            : isnan(rec[PD_R_VERDICT]) ? ": undetermined"
                                       : ": not ordered");
  if (L->ntk)
    fprintf(stderr,
            "    NTK: |emp - closed| %.3g (t=0), kernel change %.3g, "
            "linearity error %.3g (train) %.3g (test)\n",
            rec[L->theory + PD_TH_DIST0], rec[L->theory + PD_TH_CHANGE],
            rec[L->theory + PD_TH_LIN_TRAIN], rec[L->theory + PD_TH_LIN_TEST]);
  if (L->ntest > 0)
    fprintf(stderr,
            "    test: loss %.3e, relative error %.3g, sign accuracy %.3f\n",
            rec[PD_R_TEST_LOSS], rec[PD_R_TEST_REL], rec[PD_R_TEST_ACC]);
  fflush(stderr);
}

static void print_plan(const pd_plan *plan, const pd_config *cfg,
                       const pd_layout *L, int size, int g) {
  printf("job %s: %d points x %d widths x %d seeds = %lld tasks\n", cfg->path,
         plan->P, plan->W, plan->S, (long long)plan->ntasks);
  printf("data: n = %lld samples, d = %d\n", (long long)plan->n, plan->d);
  printf("points:");
  for (int p = 0; p < plan->P; p++)
    printf("%s(%.4g, %.4g)%s%s", p % 6 ? " " : "\n  ", plan->points[p].gamma,
           plan->points[p].gamma_prime, plan->points[p].label[0] ? " " : "",
           plan->points[p].label);
  printf("\nwidths:");
  for (int w = 0; w < plan->W; w++) printf(" %lld", (long long)plan->widths[w]);
  printf("\nseeds:");
  for (int s = 0; s < plan->S; s++)
    printf(" %llu", (unsigned long long)plan->seeds[s]);
  printf("\nranks: %d in %d group%s of %d\n", size, size / g,
         size / g > 1 ? "s" : "", g);
  printf(
      "memory: %.3g MiB of parameters per rank at most (%.0f bytes per "
      "neuron)\n",
      pd_plan_max_bytes(plan, g) / 1048576.0, pd_net_bytes_per_neuron(plan->d));
  /* everything else a rank holds: data, per-sample buffers, observers,
   * kernels, records (memest.h) */
  pd_memest est;
  if (pd_memest_compute(plan, cfg, L, g, &est) == PD_OK)
    pd_memest_print(stdout, &est, plan, cfg);
  else
    printf("memory per rank (estimate): unavailable: %s\n", pd_error_message());
  printf(
      "work: %.3g neuron-sample updates per step over all tasks; at most "
      "%lld steps per task\n",
      pd_plan_work_per_step(plan), (long long)cfg->train.max_steps);
  printf("output: %s\n", cfg->output);
}

/* Refuse, before the training allocates its buffers, a scan that would not
 * fit: the ranks sharing this node times the per-rank estimate of memest.h
 * (parameters, data, per-sample buffers, observers, kernels, records; plus
 * 10%) against the node's available memory.  The message names the largest
 * part and how to shrink it. */
static int check_memory(MPI_Comm world, const pd_plan *plan,
                        const pd_config *cfg, const pd_layout *L, int g) {
  MPI_Comm node;
  PD_CALL_MPI(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                                  &node));
  int local, lrank, err = PD_OK;
  MPI_Comm_size(node, &local);
  MPI_Comm_rank(node, &lrank);
  MPI_Comm_free(&node);
  pd_memest est;
  err = pd_memest_compute(plan, cfg, L, g, &est);
  const double need = est.total * 1.1 * local;
  long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  double avail = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
  if (!err && lrank == 0 && avail > 0 && need > avail) {
    const int big = pd_memest_largest(&est);
    char what[160], tot[32], all[32], part[32], parts[512] = "";
    pd_memest_describe(&est, plan, cfg, what, sizeof what);
    pd_memest_format(est.total, tot, sizeof tot);
    pd_memest_format(need, all, sizeof all);
    for (int i = 0, used = 0; i < PD_MEM_NPARTS; i++) {
      if (pd_memest_part(&est, i) < 0.01 * est.total) continue;
      pd_memest_format(pd_memest_part(&est, i), part, sizeof part);
      used += snprintf(parts + used, sizeof parts - (size_t)used, "%s%s %s",
                       used ? " + " : "", pd_memest_name(i), part);
      if (used >= (int)sizeof parts) break;
    }
    err = pd_error_raise(
        PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
        "%s does not fit: %d ranks on this node x %s each (%s; +10%%) = %s, "
        "but %.3g GiB are available; the largest part is %s: %s",
        big == PD_MEM_PARAMETERS ? "the widest network" : "the scan", local,
        tot, parts, all, avail / 1073741824.0, what, pd_memest_advice(big));
  }
  return pd_error_collective(world, err, __FILE__, __LINE__);
}

/* Say what the group size does with the ranks: a request above the rank
 * count is cut to it, and ranks beyond a whole number of groups idle. */
static void check_group_size(MPI_Comm world, const pd_plan *plan, int requested,
                             int g) {
  int size;
  MPI_Comm_size(world, &size);
  if (requested > size)
    pd_log(world, PD_LOG_WARN,
           "group size %d is larger than the %d rank%s: using one group of %d",
           requested, size, size > 1 ? "s" : "", g);
  if (size % g)
    pd_log(world, PD_LOG_WARN,
           "%d ranks in groups of %d leave %d rank%s idle; choose a group "
           "size that divides the rank count",
           size, g, size % g, size % g > 1 ? "s" : "");
  if (size / g > plan->ntasks)
    pd_log(world, requested > 0 ? PD_LOG_WARN : PD_LOG_INFO,
           "%d groups for %lld task%s: %lld group%s will idle; a larger "
           "--group-size gives each task more ranks",
           size / g, (long long)plan->ntasks, plan->ntasks > 1 ? "s" : "",
           (long long)(size / g - plan->ntasks),
           size / g - plan->ntasks > 1 ? "s" : "");
}

/* A launcher mismatch (mpirun's binary started by srun without PMIx, say)
 * starts many single-rank copies that would each run the whole scan. */
static int check_launcher(MPI_Comm world) {
  /* the step's task count when srun started us, else the allocation's */
  const char *nt = getenv("SLURM_STEP_NUM_TASKS");
  const char *name = "SLURM_STEP_NUM_TASKS";
  if (!nt || !*nt) {
    nt = getenv("SLURM_NTASKS");
    name = "SLURM_NTASKS";
  }
  int size;
  MPI_Comm_size(world, &size);
  if (!nt || !*nt) return PD_OK;
  char *end;
  long n = strtol(nt, &end, 10);
  if (*end || n == size) return PD_OK;
  if (size > 1) { /* mpirun with fewer ranks than the allocation: fine */
    pd_log(world, PD_LOG_WARN, "%s is %ld but MPI has %d ranks", name, n, size);
    return PD_OK;
  }
  return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                        "%s is %ld but MPI has 1 rank: the launcher does not "
                        "match the MPI library and would start %ld "
                        "single-rank copies of the whole scan (use srun "
                        "--mpi=pmix, or mpirun inside the allocation)",
                        name, n, n);
}

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

/* Classify the complete records (rank 0), print the table and write the
 * result file.  Collective. */
static int finish(MPI_Comm world, const pd_job *job, const pd_plan *plan,
                  const char *text, const double *results,
                  const pd_runfiles *rf, int g, double seconds) {
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  const pd_config *cfg = job->cfg;
  pd_phase *phase = NULL;
  int err = PD_OK;
  double t0 = MPI_Wtime();
  if (rank == 0) {
    err = pd_classify(plan, cfg, job->layout.len, results, &phase);
    if (!err) pd_phase_print(stdout, plan, phase);
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
      pd_task_record_clear(&job->layout, results + t * len);
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
    err = finish(world, job, plan, text, results, rf, g, 0);
  }
  pd_free(&results);
  if (!err) return 0;
  if (rank == 0) fprintf(stderr, "phasediag: error: %s\n", pd_error_message());
  return status;
}

/* Everything after argument parsing; returns the exit status. */
static int run(MPI_Comm world, const pd_args *args) {
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  pd_config *cfg = NULL;
  char *text = NULL;
  pd_data *data = NULL, *test = NULL;
  pd_plan *plan = NULL;
  pd_job job = {0};
  double *results = NULL;
  pd_phase *phase = NULL;
  pd_runfiles rf = {0};
  int status = 2, err;

  err = check_launcher(world);
  if (err) goto fail;
  err = pd_calloc(1, sizeof *cfg, &cfg);
  if (err) goto fail;
  err = pd_config_load(world, args->job, cfg, &text);
  if (err) goto fail;
  if (args->output)
    snprintf(cfg->output, sizeof cfg->output, "%s", args->output);
  if (args->overwrite) cfg->overwrite = 1;
  if (args->group_size > 0) cfg->group_size = args->group_size;
  err = pd_dataset_load_sets(world, cfg, &data, &test);
  if (err) goto fail;
  job = (pd_job){.cfg = cfg, .data = data, .test = test};
  err = pd_layout_init(&job.layout, cfg, data, test);
  if (err) goto fail;
  err = pd_plan_create(cfg, data->n, data->d, &plan);
  if (err) goto fail;
  const int g = pd_sched_group_size(plan, size, cfg->group_size);
  check_group_size(world, plan, cfg->group_size, g);
  char ckpath[PD_CONFIG_MAX_PATH + 64];
  if (args->slice_n)
    pd_slice_path(cfg->output, args->slice_index, args->slice_n, ckpath,
                  sizeof ckpath);
  else if (cfg->checkpoint[0])
    snprintf(ckpath, sizeof ckpath, "%s", cfg->checkpoint);
  else
    pd_checkpoint_default_path(cfg->output, ckpath, sizeof ckpath);
  /* the files the run reads, which it must never write */
  const char *inputs[3], *what[3];
  int ninputs = 0;
  if (cfg->source == PD_DATA_HDF5)
    inputs[ninputs] = cfg->data_file, what[ninputs++] = "data file";
  if (cfg->source == PD_DATA_IDX) {
    inputs[ninputs] = cfg->images, what[ninputs++] = "image file";
    inputs[ninputs] = cfg->labels, what[ninputs++] = "label file";
  }
  pd_runfiles_spec spec = {.job = args->job,
                           /* a slice writes no result file (the merge does), a
                            * merge no checkpoint */
                           .output = args->slice_n ? NULL : cfg->output,
                           .checkpoint = args->merge ? NULL : ckpath,
                           .overwrite = cfg->overwrite,
                           .ntasks = plan->ntasks,
                           .hash = pd_checkpoint_hash(text),
                           .ninputs = ninputs,
                           .inputs = inputs,
                           .input_what = what};
  if (args->check) {
    if (rank == 0) print_plan(plan, cfg, &job.layout, size, g);
    err = pd_runfiles_check(world, &spec);
    if (err) goto fail;
    status = 0;
    goto done;
  }
  if (!args->merge) err = check_memory(world, plan, cfg, &job.layout, g);
  if (err) goto fail;
  if (args->merge) {
    /* slice files named on the command line are inputs too */
    spec.inputs = args->files;
    spec.input_what = NULL;
    spec.ninputs = args->nfiles;
  }
  err = pd_runfiles_open(world, &spec, &rf);
  if (err) goto fail;
  const int64_t len = job.layout.len;
  /* the result file holds the records (and a little more); the checkpoint
   * the records, twice while a new one replaces the old */
  const double rec_bytes = (double)plan->ntasks * (double)len * 8.0;
  err = pd_checkpoint_check_space(world, cfg->output, rec_bytes * 1.2 + 1e6,
                                  "output file");
  if (err) goto fail;
  if (args->merge) {
    status = merge(world, args, &job, plan, text, &rf, g);
    goto done;
  }
  pd_checkpoint_info ck = {.path = ckpath,
                           .job = args->job,
                           .config_text = text,
                           .ntasks = plan->ntasks,
                           .len = len};
  /* tasks in flight save their state beside the checkpoint (task.h) */
  job.state_prefix = ckpath;
  job.config_hash = pd_checkpoint_hash(text);
  int resume = 0; /* a checkpoint of this job exists */
  int64_t restored = 0;
  if (rank == 0) {
    err = pd_checkpoint_probe(&ck, &resume, &restored);
    if (err && !args->overwrite) {
      /* another job's, or damaged: never discarded without being asked */
      char why[1024];
      snprintf(why, sizeof why, "%.*s", (int)strcspn(pd_error_message(), "\n"),
               pd_error_message());
      err = pd_error_raise(
          PD_ERR_CONFIG, __FILE__, __LINE__, __func__, "%s%s", why,
          strstr(why, "--overwrite") ? ""
                                     : "; remove it, or pass --overwrite to "
                                       "discard it and start over");
    } else if (err) {
      pd_log(world, PD_LOG_WARN, "discarding %s (--overwrite): %s", ckpath,
             pd_error_message());
      pd_error_clear();
      err = PD_OK;
      resume = 0;
    } else if (!err && args->resume && !resume) {
      err = pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                           "--resume: there is no checkpoint %s for job %s",
                           ckpath, args->job);
    }
  }
  err = pd_error_collective(world, err, __FILE__, __LINE__);
  if (err) goto fail;
  /* written on a stop signal even when checkpoint_interval = 0; beside it
   * the state of every group's running task, twice while one replaces the
   * other */
  const double state_bytes =
      2.0 * (double)(size / g) *
      ((double)(data->d + 2) * (double)pd_plan_max_width(plan) * 8.0 +
       (double)len * 8.0 + 1e5);
  err = pd_checkpoint_check_space(
      world, ckpath, rec_bytes * 2.2 + state_bytes + 1e6, "checkpoint");
  if (err) goto fail;
  /* room for the final checkpoint whatever fills the disk meanwhile */
  err = pd_runfiles_reserve(world, ckpath, rec_bytes * 1.1 + 1e6, &rf);
  if (err) goto fail;

  status = 1; /* from here on a failure is not the input's fault */
  err = rank == 0
            ? pd_calloc((size_t)(plan->ntasks * len), sizeof(double), &results)
            : PD_OK;
  if (!err && rank == 0 && resume) {
    for (int64_t t = 0; t < plan->ntasks; t++)
      pd_task_record_clear(&job.layout, results + t * len);
    err = pd_checkpoint_read(&ck, results, &restored);
  }
  if (!err && rank == 0 && resume) { /* stale states of completed tasks */
    unsigned char *done = NULL;
    err = pd_calloc((size_t)plan->ntasks, 1, &done);
    for (int64_t t = 0; !err && t < plan->ntasks; t++)
      done[t] = results[t * len + PD_R_TASK] >= 0;
    if (!err)
      err = pd_checkpoint_remove_task_states(ckpath, plan->ntasks, done, NULL);
    pd_free(&done);
  }
  err = pd_error_collective(world, err, __FILE__, __LINE__);
  if (err) goto fail;
  err = MPI_Bcast(&resume, 1, MPI_INT, 0, world) == MPI_SUCCESS ? PD_OK
                                                                : PD_ERR_MPI;
  if (err) goto fail;
  pd_log(world, PD_LOG_INFO,
         "phasediag %s: %d points x %d widths x %d seeds = %lld tasks on %d "
         "rank%s (%d group%s of %d)",
         PD_VERSION, plan->P, plan->W, plan->S, (long long)plan->ntasks, size,
         size > 1 ? "s" : "", size / g, size / g > 1 ? "s" : "", g);
  /* progress weighs a task by its neuron-sample work per step */
  pd_progress pr = {.plan = plan,
                    .job = &job,
                    .t0 = MPI_Wtime(),
                    .quiet = args->quiet,
                    .work_total = pd_plan_work_per_step(plan)};
  pd_sched_options so = {.done = on_done,
                         .ctx = &pr,
                         .save = save_checkpoint,
                         .save_ctx = &ck,
                         .save_interval = cfg->checkpoint_interval,
                         .state_interval = cfg->checkpoint_interval,
                         .stop = &pd_stop_requested,
                         .resume = resume,
                         .slice_index = args->slice_index,
                         .slice_count = args->slice_n};
  for (int64_t t = 0; t < plan->ntasks && args->slice_n > 1; t++)
    if (!pd_sched_in_slice(&so, t)) {
      int p, w, sd;
      pd_plan_task(plan, t, &p, &w, &sd);
      pr.work_total -= (double)plan->widths[w] * (double)plan->n;
    }
  if (rank == 0 && resume) {
    for (int64_t t = 0; t < plan->ntasks; t++)
      if (results[t * len + PD_R_TASK] >= 0) {
        int p, w, sd;
        pd_plan_task(plan, t, &p, &w, &sd);
        pr.done++;
        pr.work_done += (double)plan->widths[w] * (double)plan->n;
      }
    pr.work_total -= pr.work_done; /* the ETA counts this run's work */
    pr.work_done = 0;
  }
  if (resume)
    pd_log(world, PD_LOG_INFO, "resuming from %s: %lld of %lld tasks done",
           ckpath, (long long)pr.done, (long long)plan->ntasks);
  double t0 = MPI_Wtime();
  err = pd_sched_run(world, plan, &job, g, results, &so);
  if (err == PD_ERR_INTERRUPTED) {
    pd_error_clear();
    int64_t saved = 0;
    err = save_all(world, &ck, results, &rf, &saved);
    if (err) goto fail;
    pd_log(world, PD_LOG_WARN,
           "stopped by a signal: %lld of %lld tasks done, saved in %s; run "
           "the same command again to resume (exit status 3)",
           (long long)saved, (long long)plan->ntasks, ckpath);
    status = 3;
    goto done;
  }
  if (err) goto fail;
  int64_t saved = 0;
  /* every record on disk before the result file is attempted: a failure
   * there (a full disk) then loses nothing */
  int saved_all = save_all(world, &ck, results, &rf, &saved) == PD_OK;
  if (args->slice_n) { /* the slice's records are its result */
    if (!saved_all) goto fail;
    pd_log(world, PD_LOG_INFO,
           "slice %lld/%lld: %lld of %lld tasks, saved in %s (combine the "
           "slices with phasediag merge)",
           (long long)args->slice_index, (long long)args->slice_n,
           (long long)saved, (long long)plan->ntasks, ckpath);
    status = 0;
    goto done;
  }
  if (!saved_all) { /* the result file may still succeed */
    pd_log(world, PD_LOG_WARN, "%s", pd_error_message());
    pd_error_clear();
  }
  err = finish(world, &job, plan, text, results, &rf, g, MPI_Wtime() - t0);
  if (err) {
    if (rank == 0 && saved_all)
      fprintf(stderr,
              "phasediag: error: %s\nphasediag: the records of all %lld "
              "tasks are saved in %s: fix the cause above and run the same "
              "command again; it resumes from the checkpoint, trains "
              "nothing and writes %s\n",
              pd_error_message(), (long long)plan->ntasks, ckpath, cfg->output);
    if (saved_all) goto done;
    goto fail;
  }
  /* the result file is complete: the checkpoint has served */
  err = rank == 0 ? pd_checkpoint_remove(&ck) : PD_OK;
  if (!err && rank == 0)
    err = pd_checkpoint_remove_task_states(ckpath, plan->ntasks, NULL, NULL);
  if (err) {
    pd_log(world, PD_LOG_WARN, "%s", pd_error_message());
    pd_error_clear();
  }
  if (!args->quiet) pd_timer_report(world, stderr);
  status = 0;
  goto done;
fail:
  /* rank 0 speaks for all; other ranks add their own cause if it is theirs */
  if (rank == 0 || (err != PD_ERR_PEER && err != PD_OK && status == 1))
    fprintf(stderr, "phasediag: error: %s\n", pd_error_message());
done:
  pd_runfiles_close(&rf);
  pd_phase_destroy(&phase);
  pd_free(&results);
  pd_plan_destroy(&plan);
  pd_data_destroy(&data);
  pd_data_destroy(&test);
  pd_free(&text);
  pd_free(&cfg);
  return status;
}

/* --status-file: the exit status and its meaning, written atomically, for
 * scripts behind a launcher that returns its own code (mpirun stopped by a
 * signal returns 1 whatever its ranks did). */
static void write_status(const char *path, int rc) {
  static const char *const meaning[] = {"done", "failed", "bad_input",
                                        "stopped"};
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  int ok = f && fprintf(f, "%d %s\n", rc, meaning[rc]) > 0;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "phasediag: cannot write the status file %s: %s\n", path,
            strerror(errno));
    remove(tmp);
  }
}

int main(int argc, char **argv) {
  /* A file whose close failed (a full disk) stays half-closed inside HDF5
   * 1.10, and closing it again at exit crashes (H5F__close_cb); every file
   * is closed explicitly, so HDF5's exit hook has nothing else to do. */
  H5dont_atexit();
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_args args;
  int rc = parse_args(argc, argv, &args, rank);
  if (rc == 0) {
    if (args.quiet) pd_log_set_level(PD_LOG_WARN);
    if (pd_install_signals() != PD_OK) {
      fprintf(stderr, "phasediag: error: %s\n", pd_error_message());
      rc = 1;
    } else {
      rc = run(MPI_COMM_WORLD, &args);
    }
  } else {
    rc = rc == 1 ? 0 : 2;
  }
  if (rank == 0 && args.status_file) write_status(args.status_file, rc);
  MPI_Finalize();
  return rc;
}
