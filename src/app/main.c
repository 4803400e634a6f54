/* phasediag command-line front end: the phase-diagram scan.
 *
 *   mpirun -np P phasediag [options] JOB.ini
 *   mpirun -np P phasediag merge [--slices N | SLICE.ckpt ...] JOB.ini
 *
 * This file reads the command line, installs the signal handlers and
 * writes the status file; app_run.c runs the scan (see app.h).
 *
 * Exit status: 0 success; 1 failure while running; 2 bad input (nothing is
 * written); 3 stopped by SIGTERM, SIGUSR1, SIGINT or SIGHUP with a
 * checkpoint written: "requeue me" -- the same command resumes the scan.
 * --status-file FILE records it for scripts behind a launcher that returns
 * its own code; --progress-json FILE appends one JSON object per finished
 * task for dashboards (app_report.c). */
#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "phasediag/base/blas.h"
#include "phasediag/base/error.h"
#include "phasediag/base/files.h"
#include "phasediag/base/log.h"
#include "phasediag/job/conftext.h"
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
      "                   estimates and the cost of a step (a few seconds of "
      "calibration\n"
      "                   on this machine at these ranks), train nothing\n"
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
      "  --progress-json F\n"
      "                   append to F one JSON object per line, flushed as "
      "each task\n"
      "                   finishes (task, point, width, seed, status, steps, "
      "loss,\n"
      "                   t*, rd_w, seconds, done, elapsed, ETA), after a "
      "line on the\n"
      "                   job and before one with the summary; for "
      "dashboards\n"
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

/* Set by SIGTERM / SIGUSR1 / SIGINT / SIGHUP; the scheduler turns it into
 * an orderly stop. */
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

/* An option's value: --slice I/N, --slices N, --output F, --group-size G,
 * --status-file F, --progress-json F.  0, or 2 with a message. */
static int parse_value(pd_args *a, const char *s, const char *v, int rank) {
  char *end;
  if (!strcmp(s, "--output")) {
    a->output = v;
  } else if (!strcmp(s, "--status-file")) {
    a->status_file = v;
  } else if (!strcmp(s, "--progress-json")) {
    a->progress_json = v; /* checked and opened with the run's files */
  } else if (!strcmp(s, "--group-size")) {
    long g = strtol(v, &end, 10);
    if (*v == '\0' || *end || g < 1 || g > 1 << 24) {
      if (rank == 0)
        fprintf(stderr,
                "phasediag: --group-size: expected a positive integer, got "
                "'%s'\n",
                v);
      return 2;
    }
    a->group_size = (int)g;
  } else { /* --slice I/N or --slices N */
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
  }
  return 0;
}

/* A file argument: the job file, or with merge one of the files (the job
 * file is picked out later).  0, or 2 with a message. */
static int parse_file(pd_args *a, const char *s, int rank) {
  if (a->merge) {
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
  return 0;
}

/* The options that do not go together.  0, or 2 with a message. */
static int check_args(pd_args *a, int rank) {
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
                    : a->merge && a->progress_json
                        ? "--progress-json does not go with merge (it "
                          "trains nothing)"
                        : NULL;
  if (bad) {
    if (rank == 0) fprintf(stderr, "phasediag: %s (see --help)\n", bad);
    return 2;
  }
  return 0;
}

/* 0 ok, 1 done (help/version), 2 usage error */
static int parse_args(int argc, char **argv, pd_args *a, int rank) {
  static const char *const valued[] = {"--slice",       "--slices",
                                       "--output",      "--group-size",
                                       "--status-file", "--progress-json"};
  *a = (pd_args){.group_size = -1};
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int takes_value = 0;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
      takes_value |= !strcmp(s, valued[k]);
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
    } else if (takes_value) {
      if (i + 1 >= argc) {
        if (rank == 0) fprintf(stderr, "phasediag: %s needs a value\n", s);
        return 2;
      }
      if (parse_value(a, s, argv[++i], rank)) return 2;
    } else if (s[0] == '-') {
      if (rank == 0)
        fprintf(stderr, "phasediag: unknown option '%s' (see --help)\n", s);
      return 2;
    } else if (parse_file(a, s, rank)) {
      return 2;
    }
  }
  return check_args(a, rank);
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
  /* results must not depend on where MPI placed the ranks (blas.h) */
  pd_blas_set_threads(1);
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
      rc = pd_app_run(MPI_COMM_WORLD, &args, &pd_stop_requested);
    }
  } else {
    rc = rc == 1 ? 0 : 2;
  }
  if (rank == 0 && args.status_file) write_status(args.status_file, rc);
  MPI_Finalize();
  return rc;
}
