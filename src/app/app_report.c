/* What the user sees before and while a scan runs: the plan of --check,
 * the memory, group-size and launcher checks, one progress line per
 * finished task (its JSON twin for programs: app_json.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/observers.h"
#include "phasediag/scan/memest.h"
#include "phasediag/train/train.h"

void pd_app_fmt_time(double s, char *out, size_t n) {
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

void pd_app_fmt_groups(int size, int g, char *out, size_t n) {
  const int ng = size / g, last = g + size % g;
  if (ng == 1)
    snprintf(out, n, "1 group of %d rank%s", size, size > 1 ? "s" : "");
  else if (last == g)
    snprintf(out, n, "%d groups of %d rank%s", ng, g, g > 1 ? "s" : "");
  else
    snprintf(out, n, "%d groups of %d ranks, the last of %d", ng, g, last);
}

void pd_app_on_done(int64_t t, const double *rec, void *ctx) {
  pd_progress *pr = ctx;
  int p, w, s;
  pd_plan_task(pr->plan, t, &p, &w, &s);
  pr->done++;
  pr->work_done += (double)pr->plan->widths[w] * (double)pr->plan->n;
  double el = MPI_Wtime() - pr->t0;
  double eta = pr->work_done > 0
                   ? el * (pr->work_total - pr->work_done) / pr->work_done
                   : 0;
  pd_app_json_task(pr, t, rec, el, pr->work_done > 0 ? eta : NAN);
  if (pr->quiet) return;
  char e1[32], e2[32];
  pd_app_fmt_time(el, e1, sizeof e1);
  pd_app_fmt_time(eta, e2, sizeof e2);
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
  /* then one line per observer that has one */
  const pd_layout *L = &pr->job->layout;
  char line[256];
  for (int i = 0; i < PD_OBS_COUNT; i++)
    if (pd_observer_progress(L, i, rec, line, sizeof line))
      fprintf(stderr, "    %s\n", line);
  fflush(stderr);
}

void pd_app_print_plan(const pd_plan *plan, const pd_config *cfg,
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
  char groups[96];
  pd_app_fmt_groups(size, g, groups, sizeof groups);
  printf("\nranks: %d in %s\n", size, groups);
  printf(
      "memory: %.3g MiB of parameters per rank at most (%.0f bytes per "
      "neuron)\n",
      pd_plan_max_bytes(plan, g) / 1048576.0,
      pd_net_bytes_per_neuron(plan->dnet, plan->dnet < plan->d));
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
int pd_app_check_memory(MPI_Comm world, const pd_plan *plan,
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
void pd_app_check_group_size(MPI_Comm world, const pd_plan *plan, int requested,
                             int g) {
  int size;
  MPI_Comm_size(world, &size);
  if (requested > size)
    pd_log(world, PD_LOG_WARN,
           "group size %d is larger than the %d rank%s: using one group of %d",
           requested, size, size > 1 ? "s" : "", g);
  if (size % g)
    pd_log(world, PD_LOG_WARN,
           "%d ranks in groups of %d: the last group has %d ranks (uneven "
           "groups); choose a group size that divides the rank count",
           size, g, g + size % g);
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
int pd_app_check_launcher(MPI_Comm world) {
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
