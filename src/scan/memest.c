#include "phasediag/scan/memest.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/repsum.h"
#include "phasediag/model/kernel.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/blacs.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/gridspec.h"
#include "phasediag/scan/output.h"

/* Sizes the modules use (their headers or sources say the same). */
#define PD_ME_ACC ((double)sizeof(pd_acc))
#define PD_ME_REDUCE_CHUNK 1048576.0 /* accumulators per MPI reduction */
#define PD_ME_PARAM_CHUNK 1048576.0  /* doubles streamed per message */
#define PD_ME_NTK_CHUNK 256.0        /* neurons per NTK partial */
#define PD_ME_RUNTIME 50331648.0     /* 48 MiB: MPI, HDF5, FFTW, BLAS */

static double pd_me_max(double a, double b) { return a > b ? a : b; }
static double pd_me_min(double a, double b) { return a < b ? a : b; }

/* ScaLAPACK's numroc for the process at coordinate 0 (the largest share). */
static double pd_me_numroc0(int64_t n, int64_t nb, int64_t procs) {
  const int64_t blocks = n / nb, extra = blocks % procs;
  int64_t r = blocks / procs * nb;
  r += extra > 0 ? nb : n % nb;
  return (double)r;
}

/* The per-sample buffers of the net, the trainer and the test evaluation,
 * and with g > 1 the reduction's scratch. */
static double pd_me_samples(double n, double t, int g) {
  const double s = pd_me_max(n, t);
  double b = (PD_ME_ACC + 8.0 + 8.0 * PD_LANES) * s + 4 * PD_ME_ACC;
  b += 40.0 * n; /* trainer: f, fn, c, v, work */
  if (t > 0) b += 8.0 * s;
  if (g > 1) b += PD_ME_ACC * pd_me_min(s, PD_ME_REDUCE_CHUNK);
  return b;
}

/* The spectral observers at the training points and on the grid. */
static double pd_me_observers(const pd_plan *plan, const pd_config *cfg,
                              const pd_layout *L, int g) {
  if (!L->sp.methods) return 0;
  const double n = (double)plan->n;
  const int d = plan->d;
  double b = 8.0 * (4 * n + 4 * (double)L->sp.np + 8); /* NUDFT scratch */
  double transient = 0;
  if (L->sp.methods & (PD_SP_DFT | PD_SP_PROJECTION)) {
    double nk = cfg->sp_max_freq > 0 ? cfg->sp_max_freq : floor(n / 2);
    transient = 32.0 * pd_me_max(nk, 2); /* the target's peak search */
  }
  if (L->sp.methods & PD_SP_DFT) b += 8.0 * n;
  if (L->sp.methods & PD_SP_PROJECTION) b += 8.0 * n;
  if (L->sp.methods & PD_SP_FILTER)
    transient = pd_me_max(transient, 16.0 * n); /* gathered low parts */
  b += transient;
  if (L->sp.methods & PD_SP_GRID) {
    const int64_t N = cfg->sp_grid_n;
    const double Nd = (double)N, nc = (double)(N / 2 + 1);
    const double b0 = ceil(Nd / g), b1 = ceil(nc / g);
    double rest = 1; /* N^(d-2) */
    for (int j = 2; j < d; j++) rest *= Nd;
    /* this rank's slab (rank 0's: the largest; d = 1: the whole line) */
    double slab = d == 1 ? Nd : b0 * rest * Nd;
    double cplx = d == 1   ? nc
                  : d == 2 ? pd_me_max(b0 * nc, b1 * Nd)
                           : b0 * rest * nc;
    /* the FFTW-MPI in-place array; with g > 1 its transposes' scratch */
    b += 16.0 * cplx * (g > 1 ? 2 : 1);
    b += 8.0 * slab;                             /* the target on the slab */
    b += 8.0 * (slab + (double)L->sp.nsh);       /* the network on the slab */
    b += (16.0 + PD_ME_ACC) * (double)L->sp.nsh; /* shell sums */
    const int64_t m = pd_plan_max_width(plan);
    double points = 1;
    for (int j = 0; j < d; j++) points *= Nd;
    double bg = 0, br = 0;
    pd_gridspec_bytes(m, d, g, (int64_t)points, &bg, &br);
    int gather = cfg->sp_grid_method == PD_GRIDSPEC_GATHER ||
                 (cfg->sp_grid_method == PD_GRIDSPEC_AUTO && m <= 2147483647 &&
                  bg <= br);
    b += gather ? 8.0 * (double)(d + 2) * (double)m
                : PD_ME_ACC * pd_me_min(slab, PD_GRIDSPEC_CHUNK);
  }
  return b;
}

/* The NTK observer: block-cyclic n x n matrices on the group and what
 * lives beside them. */
static double pd_me_theory(const pd_plan *plan, const pd_config *cfg,
                           const pd_layout *L, int g) {
  if (!L->ntk) return 0;
  const int64_t n = plan->n;
  const double nn = (double)n, t = (double)L->ntest;
  const int d = plan->d;
  int pr = 1, pc = 1;
  pd_blacs_grid_shape(g, &pr, &pc);
  const int nb =
      pd_dmat_default_nb(n > 2147483647 ? 2147483647 : (int)n, pr, pc);
  const double mloc = pd_me_max(pd_me_numroc0(n, nb, pr), 1);
  const double nloc = pd_me_max(pd_me_numroc0(n, nb, pc), 1);
  const double share = 8.0 * mloc * nloc;
  /* V and Theta(0) for the whole run, two more while one is made */
  double b = 4.0 * share;
  /* the largest transient beside them */
  double lwork = pd_me_max(1 + 6 * nn + 2 * mloc * nloc,
                           3 * nn + pd_me_max(nb * (mloc + 1), 3.0 * nb)) +
                 2 * nn;
  double need = pd_me_max((mloc + nloc) * nb, nb * (nb - 1) / 2.0) +
                (double)nb * nb + 4 * nn + 1;
  double syevd = 8.0 * pd_me_max(lwork, need) + 4.0 * (7 * nn + 8 * pc + 2);
  double lfp = 0;
  if (d == 1 && t > 0 && cfg->ntk_lfp && n >= 2)
    lfp = 8.0 * (nn + 2) * (nn + 2) + 20.0 * (nn + 2) + 32.0 * nn;
  double ntk = 8.0 * (4.0 * nb * PD_ME_NTK_CHUNK + 4.0 * nb * nb);
  double proj = (8.0 + PD_ME_ACC) * nn;
  if (g > 1) proj += PD_ME_ACC * pd_me_min(nn, PD_ME_REDUCE_CHUNK);
  b += pd_me_max(pd_me_max(syevd, lfp), pd_me_max(ntk, proj));
  /* replicated vectors, copies of the sets, the solve and the prediction */
  b += 8.0 * 8 * nn + 5 * 8.0 * pd_me_max(t, 1);
  b += 8.0 * (nn + t) * (d + 1);
  b += 8.0 * 2 * nn + 8.0 * (pd_me_max(nn, t) + 1);
  return b;
}

/* Rank 0's records: the results, and the larger of the checkpoint's copy
 * and the output writer's scratch. */
static double pd_me_records(const pd_plan *plan, const pd_layout *L) {
  const double T = (double)plan->ntasks, len = (double)L->len;
  const double scratch = (double)pd_output_scratch(plan, L);
  const double writer = 16.0 * scratch + 8.0 * plan->S + T;
  const double copy = 8.0 * T * (len + 1);
  /* results, the plan's order, done flags, the scheduler's two records */
  return 8.0 * T * len + pd_me_max(writer, copy) + 9.0 * T + 16.0 * len;
}

int pd_memest_compute(const pd_plan *plan, const pd_config *cfg,
                      const pd_layout *L, int g, pd_memest *est) {
  PD_CHECK(plan && cfg && L && est, PD_ERR_ARG, "missing argument");
  PD_CHECK(g >= 1, PD_ERR_ARG, "group size %d", g);
  memset(est, 0, sizeof *est);
  const double n = (double)plan->n, t = (double)L->ntest;
  const int d = plan->d;
  est->parameters =
      pd_plan_max_bytes(plan, g) + 2.0 * PD_LANES * (d + 2) * sizeof(double);
  est->data = 8.0 * (n + t) * (d + 1);
  est->samples = pd_me_samples(n, t, g);
  est->observers = pd_me_observers(plan, cfg, L, g);
  est->theory = pd_me_theory(plan, cfg, L, g);
  est->records = pd_me_records(plan, L);
  est->checkpoint = 8.0 * PD_ME_PARAM_CHUNK +
                    8.0 * (4.0 * (double)L->K + 2 * n + (double)L->len);
  est->runtime = PD_ME_RUNTIME;
  for (int i = 0; i < PD_MEM_NPARTS; i++) est->total += pd_memest_part(est, i);
  return PD_OK;
}

double pd_memest_part(const pd_memest *est, int i) {
  switch (i) {
    case PD_MEM_PARAMETERS: return est->parameters;
    case PD_MEM_DATA: return est->data;
    case PD_MEM_SAMPLES: return est->samples;
    case PD_MEM_OBSERVERS: return est->observers;
    case PD_MEM_THEORY: return est->theory;
    case PD_MEM_RECORDS: return est->records;
    case PD_MEM_CHECKPOINT: return est->checkpoint;
    case PD_MEM_RUNTIME: return est->runtime;
    default: return 0;
  }
}

const char *pd_memest_name(int i) {
  static const char *names[PD_MEM_NPARTS] = {
      "parameters",         "data",        "per-sample buffers",
      "spectral observers", "NTK kernels", "result records",
      "checkpoint buffers", "libraries"};
  return i >= 0 && i < PD_MEM_NPARTS ? names[i] : "?";
}

int pd_memest_largest(const pd_memest *est) {
  int best = 0;
  for (int i = 1; i < PD_MEM_NPARTS; i++)
    if (pd_memest_part(est, i) > pd_memest_part(est, best)) best = i;
  return best;
}

void pd_memest_describe(const pd_memest *est, const pd_plan *plan,
                        const pd_config *cfg, char *buf, size_t size) {
  const int i = pd_memest_largest(est);
  const double n = (double)plan->n;
  switch (i) {
    case PD_MEM_PARAMETERS:
      snprintf(buf, size, "the parameters (m = %.3g, %.0f bytes per neuron)",
               (double)pd_plan_max_width(plan),
               pd_net_bytes_per_neuron(plan->dnet, plan->dnet < plan->d));
      break;
    case PD_MEM_DATA:
      snprintf(buf, size, "the data (n = %.3g samples, d = %d)", n, plan->d);
      break;
    case PD_MEM_SAMPLES:
      snprintf(buf, size,
               "the per-sample buffers (n = %.3g samples, %.0f bytes each)", n,
               n > 0 ? est->samples / n : 0.0);
      break;
    case PD_MEM_OBSERVERS:
      if (cfg->sp_methods & PD_SP_GRID)
        snprintf(buf, size,
                 "the spectral observers (grid_n = %lld, d = %d; n = %.3g)",
                 (long long)cfg->sp_grid_n, plan->d, n);
      else
        snprintf(buf, size, "the spectral observers (n = %.3g)", n);
      break;
    case PD_MEM_THEORY:
      snprintf(buf, size, "the NTK kernels (n = %.3g: n x n matrices)", n);
      break;
    case PD_MEM_RECORDS:
      snprintf(buf, size, "the result records (%lld tasks)",
               (long long)plan->ntasks);
      break;
    default: snprintf(buf, size, "the %s", pd_memest_name(i)); break;
  }
}

const char *pd_memest_advice(int part) {
  switch (part) {
    case PD_MEM_PARAMETERS:
      return "use more nodes, a larger --group-size, or smaller widths";
    case PD_MEM_DATA:
    case PD_MEM_SAMPLES:
      return "every rank holds them whatever the group size: use more nodes "
             "(fewer ranks per node) or fewer samples";
    case PD_MEM_OBSERVERS:
      return "use more nodes, a larger --group-size (the grid is split over "
             "a group), or a smaller [spectral] grid_n";
    case PD_MEM_THEORY:
      return "use more nodes, a larger --group-size (the kernels are split "
             "over a group), fewer samples, or [ntk] enabled = false";
    case PD_MEM_RECORDS:
      return "run the scan in slices (--slice I/N) or with fewer points, "
             "widths or seeds";
    default: return "use more nodes";
  }
}

void pd_memest_format(double bytes, char *buf, size_t size) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    u++;
  }
  snprintf(buf, size, "%.3g %s", bytes, units[u]);
}

void pd_memest_print(FILE *out, const pd_memest *est, const pd_plan *plan,
                     const pd_config *cfg) {
  char s[32];
  pd_memest_format(est->total, s, sizeof s);
  fprintf(out, "memory per rank (estimate): %s =", s);
  int done[PD_MEM_NPARTS] = {0}, first = 1;
  for (int k = 0; k < PD_MEM_NPARTS; k++) { /* largest first */
    int best = -1;
    for (int i = 0; i < PD_MEM_NPARTS; i++)
      if (!done[i] && pd_memest_part(est, i) > 0 &&
          (best < 0 || pd_memest_part(est, i) > pd_memest_part(est, best)))
        best = i;
    if (best < 0) break;
    done[best] = 1;
    pd_memest_format(pd_memest_part(est, best), s, sizeof s);
    fprintf(out, "%s %s %s", first ? "" : " +", pd_memest_name(best), s);
    first = 0;
  }
  char what[160];
  pd_memest_describe(est, plan, cfg, what, sizeof what);
  fprintf(out, "\n  largest: %s\n", what);
}
