/* phasediag command-line front end.
 *
 * Until the configuration-driven scan lands this runs the training demo: one
 * point of the phase diagram (a named scheme or (gamma, gamma')) on the
 * paper's 1-D data at several widths, then the slope of log RD against log m
 * and the regime it implies beside the theorem's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/error.h"
#include "phasediag/fit.h"
#include "phasediag/log.h"
#include "phasediag/net.h"
#include "phasediag/scheme.h"
#include "phasediag/train.h"
#include "phasediag/version.h"

#define PD_MAX_WIDTHS 32

typedef struct {
  pd_scheme_kind scheme;
  double gamma, gamma_prime, base, band;
  int64_t widths[PD_MAX_WIDTHS];
  int nwidths;
  uint64_t seed;
  int asi, quiet;
  pd_train_options train;
} pd_demo;

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: mpirun -np P phasediag [options]\n"
      "\n"
      "Train wide two-layer ReLU networks, f(x) = (1/alpha) sum_k a_k "
      "relu(w_k.(x,1)),\n"
      "on the 1-D data of Luo et al. (x = -1/2, -1/6, 1/6, 1/2; y = x^2) at "
      "several\n"
      "widths, neurons sharded over the P ranks, and classify the regime from "
      "the\n"
      "slope of log RD(t*) against log m (RD = relative change of input "
      "weights).\n"
      "\n"
      "  --scheme NAME        ntk, mean_field, xavier, lecun or he\n"
      "  --gamma G            grid coordinate gamma (default 1.75 if no "
      "scheme)\n"
      "  --gamma-prime GP     grid coordinate gamma' (default 0)\n"
      "  --base-scale C       beta2 of a grid point (default 1)\n"
      "  --widths M1,M2,...   widths (default 100,1000,10000)\n"
      "  --seed S             RNG seed (default 1)\n"
      "  --no-asi             plain init instead of antisymmetric pairs\n"
      "  --tol T              stop when the loss is below T (default 1e-6)\n"
      "  --max-steps N        step budget per run (default 1000000)\n"
      "  --band B             |slope| below B is critical (default 0.1)\n"
      "  --quiet              print only the result table\n"
      "  --version, --help\n"
      "\n"
      "The step size is automatic (capped by 1/lambda_max of the Gram matrix, "
      "grown\n"
      "while accepted, halved when the loss rises): there is no learning "
      "rate.\n"
      "Exit status: 0 success, 2 bad arguments, 1 other failure.\n");
}

static int parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return errno == 0 && end != s && *end == '\0' && isfinite(*v);
}

static int parse_widths(const char *s, pd_demo *o) {
  o->nwidths = 0;
  const char *p = s;
  while (*p) {
    char *end;
    errno = 0;
    double v = strtod(p, &end); /* accepts 1e4 */
    if (errno || end == p || v < 2 || v > 9.2e18 || v != floor(v)) return 0;
    if (o->nwidths == PD_MAX_WIDTHS) return 0;
    o->widths[o->nwidths++] = (int64_t)v;
    p = end;
    if (*p == ',')
      p++;
    else if (*p)
      return 0;
  }
  return o->nwidths > 0;
}

static int is_value_option(const char *a) {
  static const char *const names[] = {
      "--scheme", "--gamma",     "--gamma-prime", "--base-scale", "--band",
      "--tol",    "--max-steps", "--seed",        "--widths"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(a, names[i])) return 1;
  return 0;
}

/* 0 ok, 1 exit 0 (help/version), 2 usage error */
static int parse_args(int argc, char **argv, pd_demo *o, int rank) {
  *o = (pd_demo){.scheme = PD_SCHEME_GRID,
                 .gamma = 1.75,
                 .base = 1.0,
                 .band = 0.1,
                 .seed = 1,
                 .asi = 1,
                 .widths = {100, 1000, 10000},
                 .nwidths = 3};
  pd_train_options_default(&o->train);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int ok = 1, takes = 1;
    double v = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      if (rank == 0) usage(stdout);
      return 1;
    } else if (!strcmp(a, "--version")) {
      if (rank == 0) printf("phasediag %s (%s)\n", PD_VERSION, PD_GIT_COMMIT);
      return 1;
    } else if (!strcmp(a, "--no-asi")) {
      o->asi = 0, takes = 0;
    } else if (!strcmp(a, "--quiet")) {
      o->quiet = 1, takes = 0;
    } else if (!is_value_option(a)) {
      if (rank == 0)
        fprintf(stderr, "phasediag: unknown option '%s' (see --help)\n", a);
      return 2;
    } else if (!val) {
      ok = 0;
    } else if (!strcmp(a, "--scheme")) {
      ok = pd_scheme_from_name(val, &o->scheme) == PD_OK;
      pd_error_clear();
    } else if (!strcmp(a, "--gamma")) {
      ok = parse_double(val, &o->gamma);
    } else if (!strcmp(a, "--gamma-prime")) {
      ok = parse_double(val, &o->gamma_prime);
    } else if (!strcmp(a, "--base-scale")) {
      ok = parse_double(val, &o->base) && o->base > 0;
    } else if (!strcmp(a, "--band")) {
      ok = parse_double(val, &o->band) && o->band >= 0;
    } else if (!strcmp(a, "--tol")) {
      ok = parse_double(val, &o->train.tol) && o->train.tol > 0;
    } else if (!strcmp(a, "--max-steps")) {
      ok = parse_double(val, &v) && v >= 0 && v == floor(v) && v < 9e18;
      o->train.max_steps = (int64_t)v;
    } else if (!strcmp(a, "--seed")) {
      ok = parse_double(val, &v) && v >= 0 && v == floor(v) && v < 1.8e19;
      o->seed = (uint64_t)v;
    } else if (!strcmp(a, "--widths")) {
      ok = parse_widths(val, o);
    }
    if (!ok) {
      if (rank == 0)
        fprintf(stderr, "phasediag: option %s: bad or missing value '%s'\n", a,
                val ? val : "");
      return 2;
    }
    i += takes;
  }
  for (int k = 0; k < o->nwidths; k++)
    if (o->asi && o->widths[k] % 2) {
      if (rank == 0)
        fprintf(stderr,
                "phasediag: --widths: %lld is odd; antisymmetric "
                "init pairs neurons (use an even width or --no-asi)\n",
                (long long)o->widths[k]);
      return 2;
    }
  return 0;
}

static int run_demo(MPI_Comm comm, const pd_demo *o) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  pd_data *data = NULL;
  PD_CALL(pd_data_paper1d(&data));
  double g = o->gamma, gp = o->gamma_prime;
  if (o->scheme != PD_SCHEME_GRID)
    PD_CALL(pd_scheme_coordinates(o->scheme, data->d, &g, &gp));
  pd_log(comm, PD_LOG_INFO,
         "phasediag %s: %s (gamma, gamma') = (%g, %g), paper1d data, %d rank%s",
         PD_VERSION,
         o->scheme == PD_SCHEME_GRID ? "grid point" : pd_scheme_name(o->scheme),
         g, gp, size, size > 1 ? "s" : "");
  if (rank == 0)
    printf("%10s %10s %10s %12s %12s %12s %10s %9s\n", "width", "status",
           "steps", "t_star", "loss", "rd_w", "rd_a", "seconds");
  double lx[PD_MAX_WIDTHS], ly[PD_MAX_WIDTHS];
  for (int k = 0; k < o->nwidths; k++) {
    pd_net_config cfg = {.d = data->d,
                         .m = o->widths[k],
                         .asi = o->asi,
                         .seed = o->seed,
                         .task = (uint64_t)k};
    double m = (double)o->widths[k];
    if (o->scheme == PD_SCHEME_GRID)
      PD_CALL(
          pd_scales_grid(o->gamma, o->gamma_prime, m, o->base, &cfg.scales));
    else
      PD_CALL(pd_scales_scheme(o->scheme, m, data->d, &cfg.scales));
    pd_net *net = NULL;
    PD_CALL(pd_net_create(comm, &cfg, &net));
    pd_train_options topt = o->train;
    topt.progress_seconds = o->quiet ? 0 : 10;
    pd_train_result res;
    PD_CALL(pd_train(net, data, &topt, &res));
    if (rank == 0)
      printf("%10lld %10s %10lld %12.5g %12.4e %12.5g %10.4g %9.2f\n",
             (long long)cfg.m, pd_status_name(res.status), (long long)res.steps,
             res.t_star, res.loss, res.rd_w, res.rd_a, res.seconds);
    fflush(stdout);
    lx[k] = log(m);
    ly[k] = res.status == PD_STATUS_CONVERGED ? log(res.rd_w) : NAN;
    pd_train_result_free(&res);
    PD_CALL(pd_net_destroy(&net));
  }
  double slope, se;
  if (pd_fit_slope(lx, ly, o->nwidths, &slope, &se) == PD_OK) {
    if (rank == 0)
      printf("slope d log RD / d log m = %.3f +- %.3f: %s (theory: %s)\n",
             slope, se, pd_regime_name(pd_fit_regime(slope, o->band)),
             pd_regime_name(pd_theory_regime(g, gp)));
  } else if (rank == 0) {
    printf("slope undetermined: %s\n", pd_error_message());
  }
  pd_data_destroy(&data);
  return PD_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_demo opt;
  int rc = parse_args(argc, argv, &opt, rank);
  if (rc != 0) {
    MPI_Finalize();
    return rc == 1 ? 0 : 2;
  }
  if (opt.quiet) pd_log_set_level(PD_LOG_WARN);
  int err = run_demo(MPI_COMM_WORLD, &opt);
  if (err != PD_OK) pd_error_abort(MPI_COMM_WORLD, err);
  MPI_Finalize();
  return 0;
}
