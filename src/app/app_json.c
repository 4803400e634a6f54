/* --progress-json FILE: the progress of a scan as one JSON object per line
 * for programs (dashboards, tail -f): a start line, one line per finished
 * task, an end line with the classification summary, a stopped line on a
 * signal.  Rank 0 writes; the file is checked and opened at start. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "phasediag/base/error.h"
#include "phasediag/base/files.h"
#include "phasediag/train/train.h"
#include "phasediag/version.h"

/* ---- --progress-json ------------------------------------------------------
 * One JSON object per line, each written with one write and flushed, so a
 * reader following the file (tail -f, a dashboard) never sees half a line.
 * Numbers that are not finite (t* of a run that did not converge) are
 * null: JSON has no NaN. */

#define PD_JSON_LINE 8192

typedef struct {
  char b[PD_JSON_LINE];
  size_t n;
} pd_json;

static void jput(pd_json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void jput(pd_json *j, const char *fmt, ...) {
  if (j->n >= sizeof j->b) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(j->b + j->n, sizeof j->b - j->n, fmt, ap);
  va_end(ap);
  j->n = w < 0 ? sizeof j->b : j->n + (size_t)w;
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s) {
  const int n = s[0] < 0x80                   ? 1
                : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
                : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
                : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
                                              : 0;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  /* overlong forms, surrogates and code points past U+10FFFF */
  if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
      (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
      (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
      (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
    return 0;
  return n;
}

/* "key": "value" with the value escaped; bytes that are not UTF-8 (a file
 * name is any bytes) become U+FFFD so the line stays valid JSON. */
static void jstr(pd_json *j, const char *key, const char *v) {
  jput(j, "%s\"%s\": \"", j->n > 1 ? ", " : "", key);
  for (const unsigned char *s = (const unsigned char *)v; *s;) {
    const int n = utf8_len(s);
    if (*s == '"' || *s == '\\')
      jput(j, "\\%c", *s);
    else if (*s == '\n')
      jput(j, "\\n");
    else if (*s == '\t')
      jput(j, "\\t");
    else if (*s < 0x20 || *s == 0x7f)
      jput(j, "\\u%04x", *s);
    else if (n == 0)
      jput(j, "\\ufffd");
    else
      jput(j, "%.*s", n, (const char *)s);
    s += n > 0 ? n : 1;
  }
  jput(j, "\"");
}

/* "key": number, or null when not finite; integral values print whole */
static void jnum(pd_json *j, const char *key, double v) {
  jput(j, "%s\"%s\": ", j->n > 1 ? ", " : "", key);
  if (!isfinite(v))
    jput(j, "null");
  else if (v == floor(v) && fabs(v) < 1e15)
    jput(j, "%.0f", v);
  else
    jput(j, "%.17g", v);
}

/* seconds to the millisecond, or null */
static void jsec(pd_json *j, const char *key, double v) {
  jput(j, "%s\"%s\": ", j->n > 1 ? ", " : "", key);
  if (isfinite(v))
    jput(j, "%.3f", v);
  else
    jput(j, "null");
}

static void jint(pd_json *j, const char *key, long long v) {
  jput(j, "%s\"%s\": %lld", j->n > 1 ? ", " : "", key, v);
}

/* "event": name, "time": seconds since 1970 (UTC) */
static void jbegin(pd_json *j, const char *event) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  j->n = 0;
  jput(j, "{");
  jstr(j, "event", event);
  jput(j, ", \"time\": %.3f", (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
}

/* Close the object and append it as one line; a failed write is said once
 * and ends the stream, not the scan. */
static void jend(pd_progress *pr, pd_json *j) {
  if (!pr->json || pr->json_failed) return;
  jput(j, "}\n");
  int ok = j->n < sizeof j->b;
  if (ok) ok = fwrite(j->b, 1, j->n, pr->json) == j->n;
  if (fflush(pr->json) != 0) ok = 0;
  if (!ok) {
    pr->json_failed = 1;
    fprintf(stderr,
            "phasediag: warning: --progress-json %s: %s; no more progress "
            "lines are written there (the scan goes on)\n",
            pr->json_path,
            j->n < sizeof j->b ? strerror(errno) : "a line is too long");
  }
}

void pd_app_json_task(pd_progress *pr, int64_t t, const double *rec,
                      double elapsed, double eta) {
  int p, w, s;
  pd_plan_task(pr->plan, t, &p, &w, &s);
  const pd_point *pt = &pr->plan->points[p];
  pd_json j;
  jbegin(&j, "task");
  jint(&j, "task", (long long)t);
  jint(&j, "point", p);
  jnum(&j, "gamma", pt->gamma);
  jnum(&j, "gamma_prime", pt->gamma_prime);
  jstr(&j, "label", pt->label);
  jint(&j, "width", (long long)pr->plan->widths[w]);
  jput(&j, ", \"seed\": %llu", (unsigned long long)pr->plan->seeds[s]);
  jstr(&j, "status", pd_status_name((int)rec[PD_R_STATUS]));
  jnum(&j, "steps", rec[PD_R_STEPS]);
  jnum(&j, "evaluations", rec[PD_R_EVALS]);
  jnum(&j, "loss", rec[PD_R_LOSS]);
  jnum(&j, "t_star", rec[PD_R_TSTAR]);
  jnum(&j, "rd_w", rec[PD_R_RDW]);
  jsec(&j, "seconds", rec[PD_R_SECONDS]);
  jint(&j, "done", (long long)pr->done);
  jint(&j, "tasks", (long long)pr->plan->ntasks);
  jsec(&j, "elapsed", elapsed);
  jsec(&j, "eta", eta);
  jend(pr, &j);
}

void pd_app_json_start(pd_progress *pr, int ranks, int g, const pd_args *args) {
  if (!pr->json) return;
  const pd_plan *plan = pr->plan;
  pd_json j;
  jbegin(&j, "start");
  jstr(&j, "job", args->job);
  jstr(&j, "output", pr->job->cfg->output);
  jstr(&j, "version", PD_VERSION);
  jint(&j, "tasks", (long long)plan->ntasks);
  jint(&j, "done", (long long)pr->done); /* from a checkpoint */
  jint(&j, "points", plan->P);
  jput(&j, ", \"widths\": [");
  for (int w = 0; w < plan->W; w++)
    jput(&j, "%s%lld", w ? ", " : "", (long long)plan->widths[w]);
  jput(&j, "], \"seeds\": [");
  for (int s = 0; s < plan->S; s++)
    jput(&j, "%s%llu", s ? ", " : "", (unsigned long long)plan->seeds[s]);
  jput(&j, "]");
  jint(&j, "ranks", ranks);
  jint(&j, "groups", ranks / g);
  jint(&j, "group_size", g);
  if (args->slice_n)
    jput(&j, ", \"slice\": [%lld, %lld]", (long long)args->slice_index,
         (long long)args->slice_n);
  jend(pr, &j);
}

void pd_app_json_end(pd_progress *pr, const pd_phase *phase) {
  if (!pr->json) return;
  int agree = 0, classified = 0; /* agree: 1, 0, or -1 for no verdict */
  for (int p = 0; p < phase->P; p++) {
    agree += phase->agree[p] == 1;
    classified += phase->agree[p] >= 0;
  }
  pd_json j;
  jbegin(&j, "end");
  jint(&j, "points", phase->P);
  jint(&j, "classified", classified);
  jint(&j, "agree", agree);
  jint(&j, "tasks", (long long)pr->plan->ntasks);
  jsec(&j, "elapsed", MPI_Wtime() - pr->t0);
  jend(pr, &j);
}

void pd_app_json_stopped(pd_progress *pr, int64_t saved,
                         const char *checkpoint) {
  if (!pr->json) return;
  pd_json j;
  jbegin(&j, "stopped");
  jint(&j, "done", (long long)saved);
  jint(&j, "tasks", (long long)pr->plan->ntasks);
  jstr(&j, "checkpoint", checkpoint);
  jsec(&j, "elapsed", MPI_Wtime() - pr->t0);
  jend(pr, &j);
}

/* Rank 0: refuse a progress file that is one of the run's own files, by
 * identity where both exist and by name where either does not yet. */
static int json_not_ours(const char *path, const pd_args *args,
                         const pd_runfiles_spec *spec) {
  enum { MAX_OWN = 16 };
  const char *mine[MAX_OWN] = {spec->job, spec->output, spec->checkpoint,
                               args->status_file};
  const char *what[MAX_OWN] = {"the job file", "the output file",
                               "the checkpoint", "the status file"};
  int n = 4;
  for (int i = 0; i < spec->ninputs && n < MAX_OWN; i++, n++) {
    mine[n] = spec->inputs[i];
    what[n] = spec->input_what ? spec->input_what[i] : "a slice file";
  }
  pd_file_id id, other;
  char name[4200], other_name[4200];
  PD_CALL(pd_file_id_of(path, &id));
  pd_file_canonical(path, name, sizeof name);
  for (int i = 0; i < n; i++) {
    if (!mine[i]) continue;
    pd_file_canonical(mine[i], other_name, sizeof other_name);
    int same = strcmp(name, other_name) == 0;
    if (!same && pd_file_id_of(mine[i], &other) == PD_OK)
      same = pd_file_same(&id, &other);
    pd_error_clear();
    PD_CHECK(!same, PD_ERR_CONFIG,
             "--progress-json %s: that is %s (%s); name another file", path,
             what[i], mine[i]);
  }
  return PD_OK;
}

static int json_open_local(const pd_args *args, const pd_runfiles_spec *spec,
                           int check_only, FILE **json) {
  const char *path = args->progress_json;
  PD_CHECK(path[0] != '\0', PD_ERR_CONFIG,
           "--progress-json: expected a file name, got ''");
  PD_CALL(pd_file_require_regular(path, "--progress-json"));
  PD_CALL(json_not_ours(path, args, spec));
  if (check_only) { /* nothing created: can it be? */
    pd_file_id id;
    PD_CALL(pd_file_id_of(path, &id));
    char dir[4200];
    pd_path_dir(path, dir, sizeof dir);
    const int ok =
        id.exists ? access(path, W_OK) == 0 : access(dir, W_OK | X_OK) == 0;
    PD_CHECK(ok, PD_ERR_CONFIG, "--progress-json %s: cannot %s: %s", path,
             id.exists ? "append to it" : "create it", strerror(errno));
    return PD_OK;
  }
  *json = fopen(path, "a");
  PD_CHECK(*json != NULL, PD_ERR_CONFIG,
           "--progress-json %s: cannot open it for appending: %s", path,
           strerror(errno));
  return PD_OK;
}

int pd_app_json_open(MPI_Comm world, const pd_args *args,
                     const pd_runfiles_spec *spec, int check_only,
                     FILE **json) {
  *json = NULL;
  if (!args->progress_json) return PD_OK;
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(world, &rank));
  const int err =
      rank == 0 ? json_open_local(args, spec, check_only, json) : PD_OK;
  return pd_error_collective(world, err, __FILE__, __LINE__);
}
