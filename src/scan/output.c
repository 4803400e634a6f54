#include "phasediag/scan/output.h"

#include <errno.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/timer.h"
#include "phasediag/observe/observers.h"
#include "phasediag/scan/h5meta.h"
#include "phasediag/scan/task.h"
#include "phasediag/train/train.h"
#include "phasediag/version.h"

/* ---- collective dataset writer ------------------------------------------ */

/* The dimension scales every per-point and per-run dataset is attached to
 * (negative until made). */
enum {
  PD_SC_GAMMA,
  PD_SC_GAMMA_PRIME,
  PD_SC_WIDTH,
  PD_SC_SEED,
  PD_SC_LADDER,
  PD_SC_N
};

typedef struct {
  const char *path; /* the file being written */
  hid_t file, xfer;
  int root;    /* this rank writes the data */
  int err;     /* first HDF5 failure on this rank */
  int P, W, S; /* the leading shape of the per-run datasets */
  hid_t scale[PD_SC_N];
} pd_h5;

/* The first failure on this rank, with the free space beside the file
 * (the usual cause: a full disk). */
static void pd_h5_fail(pd_h5 *h, const char *what, const char *name) {
  if (h->err != PD_OK) return;
  char dir[4200], room[160] = "";
  struct statvfs sv;
  pd_path_dir(h->path, dir, sizeof dir);
  if (statvfs(dir, &sv) == 0)
    snprintf(room, sizeof room, " (%.3g MiB free in %.100s)",
             (double)sv.f_bavail * (double)sv.f_frsize / 1048576.0, dir);
  h->err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "HDF5: cannot %s %s%s", what, name, room);
}

/* Create groups on the way, as every rank must. */
static hid_t pd_h5_group(pd_h5 *h, const char *name) {
  hid_t g =
      H5Lexists(h->file, name, H5P_DEFAULT) > 0
          ? H5Gopen2(h->file, name, H5P_DEFAULT)
          : H5Gcreate2(h->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) pd_h5_fail(h, "create group", name);
  return g;
}

static void pd_h5_annotate(pd_h5 *h, hid_t ds, const char *name, int rank,
                           const hsize_t *dims);

static void pd_h5_write(pd_h5 *h, const char *name, hid_t type, int rank,
                        const hsize_t *dims, const void *buf) {
  hid_t fs = H5Screate_simple(rank, dims, NULL);
  hid_t ds = H5Dcreate2(h->file, name, type, fs, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT);
  if (fs < 0 || ds < 0) {
    pd_h5_fail(h, "create dataset", name);
  } else {
    hid_t ms = H5Screate_simple(rank, dims, NULL);
    static const char dummy[16];
    if (!h->root) {
      H5Sselect_none(fs);
      H5Sselect_none(ms);
      buf = dummy;
    }
    if (H5Dwrite(ds, type, ms, fs, h->xfer, buf) < 0)
      pd_h5_fail(h, "write", name);
    H5Sclose(ms);
    pd_h5_annotate(h, ds, name, rank, dims);
  }
  if (ds >= 0) H5Dclose(ds);
  if (fs >= 0) H5Sclose(fs);
}

/* Every rank must pass the same value: attributes are metadata, which
 * parallel HDF5 keeps identical on all ranks. */
static void pd_h5_attr_str(pd_h5 *h, hid_t obj, const char *name,
                           const char *value) {
  hid_t t = pd_h5meta_text();
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = t < 0 || sp < 0
                ? -1
                : H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, t, &value) < 0)
    pd_h5_fail(h, "write attribute", name);
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
}

/* A scalar attribute of a native type (H5T_NATIVE_LONG, _DOUBLE, ...). */
static void pd_h5_attr_scalar(pd_h5 *h, hid_t obj, const char *name, hid_t type,
                              const void *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, type, v) < 0) pd_h5_fail(h, "write attribute", name);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
}

static void pd_h5_attr_on(pd_h5 *h, const char *dataset, const char *name,
                          const char *value) {
  hid_t ds = H5Dopen2(h->file, dataset, H5P_DEFAULT);
  if (ds < 0) {
    pd_h5_fail(h, "open", dataset);
    return;
  }
  pd_h5_attr_str(h, ds, name, value);
  H5Dclose(ds);
}

/* ---- codes as enums ------------------------------------------------------ */

static void pd_h5_write_codes(pd_h5 *h, const char *name, hid_t base,
                              pd_codes kind, int rank, const hsize_t *dims,
                              const void *buf) {
  hid_t t = pd_h5meta_enum(kind, base);
  if (t < 0) {
    pd_h5_fail(h, "make the enum type of", name);
    return;
  }
  pd_h5_write(h, name, t, rank, dims, buf);
  H5Tclose(t);
}

/* ---- what each dimension is -------------------------------------------- */

/* Attach scale (if any) to dimension idx of ds and give it label (if any).
 * Both write attributes: every rank makes the same calls. */
static void pd_h5_dim(pd_h5 *h, hid_t ds, const char *name, unsigned idx,
                      hid_t scale, const char *label) {
  if (scale >= 0 && H5DSattach_scale(ds, scale, idx) < 0)
    pd_h5_fail(h, "attach a dimension scale to", name);
  if (label && H5DSset_label(ds, idx, label) < 0)
    pd_h5_fail(h, "label a dimension of", name);
}

/* Make the dataset `name` a dimension scale (kept open in h->scale[which]
 * for the attachments to come) and label its own dimension. */
static void pd_h5_scale(pd_h5 *h, const char *name, int which,
                        const char *scale_name, const char *label) {
  hid_t ds = H5Dopen2(h->file, name, H5P_DEFAULT);
  if (ds < 0 || H5DSset_scale(ds, scale_name) < 0 ||
      H5DSset_label(ds, 0, label) < 0) {
    pd_h5_fail(h, "make a dimension scale of", name);
    if (ds >= 0) H5Dclose(ds);
    return;
  }
  h->scale[which] = ds;
}

/* Units, scales and dimension labels of a dataset just written: per point
 * [P] under /phase, per run [P, W, S, ...] elsewhere (the /grid scales and
 * the ladder's levels are made scales by pd_h5_scale). */
static void pd_h5_annotate(pd_h5 *h, hid_t ds, const char *name, int rank,
                           const hsize_t *dims) {
  const char *units = pd_h5meta_units(name), *d0, *d1;
  if (units) pd_h5_attr_str(h, ds, "units", units);
  if (pd_h5meta_data_dims(name, &d0, &d1)) {
    pd_h5_dim(h, ds, name, 0, -1, d0);
    if (rank > 1) pd_h5_dim(h, ds, name, 1, -1, d1);
    return;
  }
  if (strncmp(name, "/grid/", 6) == 0 ||
      strcmp(name, "/history/ladder_loss") == 0)
    return;
  if (strncmp(name, "/phase/", 7) == 0) {
    pd_h5_dim(h, ds, name, 0, h->scale[PD_SC_GAMMA], "point");
    pd_h5_dim(h, ds, name, 0, h->scale[PD_SC_GAMMA_PRIME], NULL);
    return;
  }
  if (rank < 3 || dims[0] != (hsize_t)h->P || dims[1] != (hsize_t)h->W ||
      dims[2] != (hsize_t)h->S)
    return;
  pd_h5_dim(h, ds, name, 0, h->scale[PD_SC_GAMMA], "point");
  pd_h5_dim(h, ds, name, 0, h->scale[PD_SC_GAMMA_PRIME], NULL);
  pd_h5_dim(h, ds, name, 1, h->scale[PD_SC_WIDTH], "width");
  pd_h5_dim(h, ds, name, 2, h->scale[PD_SC_SEED], "seed");
  if (rank == 3) return;
  const char *d3, *d4;
  if (pd_h5meta_trailing_dims(name, &d3, &d4)) {
    hid_t q = strncmp(name, "/history/ladder_", 16) == 0
                  ? h->scale[PD_SC_LADDER]
                  : -1;
    pd_h5_dim(h, ds, name, 3, q, d3);
    if (rank > 4) pd_h5_dim(h, ds, name, 4, -1, d4);
  }
}

/* ---- the layout --------------------------------------------------------- */

/* field f of every record -> out[t] */
static void pd_gather_field(const double *res, int64_t nt, int64_t len, int f,
                            double *out) {
  for (int64_t t = 0; t < nt; t++) out[t] = res[t * len + f];
}

/* The observers' per-run fields (features, snapshots, spectra, theory,
 * test output): each [P, W, S, dims...], gathered from the records. */
static void pd_write_fields(pd_h5 *h, const pd_plan *plan, const pd_layout *L,
                            const double *res, double *buf, int64_t *ibuf) {
  pd_field f[PD_FIELDS_MAX];
  int nf = 0;
  if (pd_layout_fields(L, f, PD_FIELDS_MAX, &nf) != PD_OK) {
    pd_h5_fail(h, "describe", "the record fields");
    return;
  }
  /* every group on a field's path, in order (creating one is collective) */
  for (int k = 0; k < nf; k++)
    for (char *c = strchr(f[k].name + 1, '/'); c; c = strchr(c + 1, '/')) {
      *c = '\0';
      hid_t g = pd_h5_group(h, f[k].name);
      if (g >= 0) H5Gclose(g);
      *c = '/';
    }
  const int64_t nt = plan->ntasks;
  for (int k = 0; k < nf; k++) {
    hsize_t dims[5] = {(hsize_t)plan->P, (hsize_t)plan->W, (hsize_t)plan->S,
                       (hsize_t)f[k].dims[0], (hsize_t)f[k].dims[1]};
    int64_t per = 1;
    for (int r = 0; r < f[k].rank; r++) per *= f[k].dims[r];
    if (h->root)
      for (int64_t t = 0; t < nt; t++)
        for (int64_t i = 0; i < per; i++) {
          double v = res[t * L->len + f[k].offset + i];
          if (f[k].integer)
            ibuf[t * per + i] = isfinite(v) ? (int64_t)v : -1;
          else
            buf[t * per + i] = v;
        }
    pd_codes kind;
    if (f[k].integer && pd_h5meta_field_codes(f[k].name, &kind))
      pd_h5_write_codes(h, f[k].name, H5T_NATIVE_INT64, kind, 3 + f[k].rank,
                        dims, ibuf);
    else
      pd_h5_write(
          h, f[k].name, f[k].integer ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE,
          3 + f[k].rank, dims, f[k].integer ? (void *)ibuf : (void *)buf);
    pd_h5_attr_on(h, f[k].name, "description", f[k].description);
  }
}

/* The training and test sets (every rank holds them; rank 0 writes). */
static void pd_write_data(pd_h5 *h, const pd_job *job) {
  hid_t g = pd_h5_group(h, "/data");
  if (g >= 0) H5Gclose(g);
  const pd_data *sets[2] = {job->data, job->test};
  const char *xs[2] = {"/data/x", "/data/x_test"};
  const char *ys[2] = {"/data/y", "/data/y_test"};
  for (int i = 0; i < 2; i++) {
    if (!sets[i]) continue;
    hsize_t dx[2] = {(hsize_t)sets[i]->n, (hsize_t)sets[i]->d};
    pd_h5_write(h, xs[i], H5T_NATIVE_DOUBLE, 2, dx, sets[i]->x);
    pd_h5_write(h, ys[i], H5T_NATIVE_DOUBLE, 1, dx, sets[i]->y);
  }
}

/* What each of the fixed datasets is (the observers' fields carry their
 * own): a file that explains itself to h5py and h5dump users. */
static void pd_write_descriptions(pd_h5 *h, const pd_job *job) {
  static const char *const d[][2] = {
      {"/grid/gamma",
       "gamma of each point: lim -log(beta1 beta2 / alpha) "
       "/ log m (Luo, Xu, Ma, Zhang 2021)"},
      {"/grid/gamma_prime",
       "gamma' of each point: lim -log(beta1 / beta2) / "
       "log m"},
      {"/grid/width", "the widths m trained at every point"},
      {"/grid/seed", "the seeds of the initial draws (Philox key)"},
      {"/runs/rd_w",
       "RD of the input weights and biases at the stop: "
       "|theta_w - theta_w(0)| / |theta_w(0)|"},
      {"/runs/rd_a", "RD of the output weights at the stop"},
      {"/runs/final_loss", "loss 1/(2n) sum (f - y)^2 at the stop"},
      {"/runs/initial_loss", "loss at t = 0"},
      {"/runs/t_star",
       "flow time at the stop (the sum of accepted steps, dimensionless); "
       "t* for a converged run"},
      {"/runs/lambda_max",
       "last estimate of lambda_max of the Gram matrix "
       "(1/n) J J^T"},
      {"/runs/seconds", "wall time of the run in seconds (s)"},
      {"/runs/steps", "accepted steps"},
      {"/runs/rejected_steps", "rejected (retried) steps"},
      {"/runs/evaluations",
       "gradient evaluations: steps, stages, rejected tries, lambda_max "
       "iterations"},
      {"/runs/status",
       "how the run ended (an enum; the codes also in the attribute names)"},
      {"/history/step", "accepted steps at the log-spaced history records"},
      {"/history/time", "flow time (dimensionless) at the history records"},
      {"/history/loss", "loss at the history records"},
      {"/history/rd_w", "rd_w at the history records"},
      {"/phase/slope",
       "the slope of log RD against log m that decided the "
       "regime (see decided_by)"},
      {"/phase/slope_stderr", "its standard error"},
      {"/phase/regime",
       "empirical regime from the slope and [classify] band (an enum: "
       "-1 undetermined, 0 linear, 1 critical, 2 condensed)"},
      {"/phase/theory_regime",
       "the regime of Theorems 1 and 2 (Luo et al.; the codes of regime)"},
      {"/phase/agree",
       "1 where the empirical regime is the theorems', 0 where it is not, "
       "-1 where there is no verdict (the point could not be classified: "
       "no slope)"},
      {"/phase/decided_by",
       "which slope decided (an enum; the codes also in the attribute "
       "names)"},
      {"/phase/boundary_distance",
       "distance of the point to the critical "
       "boundary in the (gamma, gamma') plane"},
      {"/data/x", "the training inputs (n x d)"},
      {"/data/y", "the training targets (n)"}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
    pd_h5_attr_on(h, d[i][0], "description", d[i][1]);
  if (job->test) {
    pd_h5_attr_on(h, "/data/x_test", "description", "the test inputs");
    pd_h5_attr_on(h, "/data/y_test", "description", "the test targets");
  }
}

static void pd_write_layout(pd_h5 *h, const pd_plan *plan, const pd_job *job,
                            const double *res, const pd_phase *ph, double *buf,
                            int64_t *ibuf, int8_t *bbuf) {
  const pd_layout *L = &job->layout;
  const int64_t nt = plan->ntasks, len = L->len;
  const int64_t K = L->K;
  const int P = plan->P;
  const hsize_t dP[1] = {(hsize_t)P}, dW[1] = {(hsize_t)plan->W},
                dS[1] = {(hsize_t)plan->S},
                dR[3] = {(hsize_t)P, (hsize_t)plan->W, (hsize_t)plan->S},
                dH[4] = {dR[0], dR[1], dR[2], (hsize_t)K};
  hid_t g;
  const char *groups[] = {"/grid", "/runs", "/history", "/phase"};
  for (int i = 0; i < 4; i++)
    if ((g = pd_h5_group(h, groups[i])) >= 0) H5Gclose(g);

  /* /grid */
  for (int p = 0; p < P; p++) buf[p] = plan->points[p].gamma;
  pd_h5_write(h, "/grid/gamma", H5T_NATIVE_DOUBLE, 1, dP, buf);
  for (int p = 0; p < P; p++) buf[p] = plan->points[p].gamma_prime;
  pd_h5_write(h, "/grid/gamma_prime", H5T_NATIVE_DOUBLE, 1, dP, buf);
  /* /grid/label is variable-length text: written after the parallel close
   * (pd_write_labels) */
  pd_h5_write(h, "/grid/width", H5T_NATIVE_INT64, 1, dW, plan->widths);
  for (int s = 0; s < plan->S; s++) ibuf[s] = (int64_t)plan->seeds[s];
  pd_h5_write(h, "/grid/seed", H5T_NATIVE_INT64, 1, dS, ibuf);
  /* the coordinates of the point, width and seed dimensions of every
   * per-point and per-run dataset written below */
  pd_h5_scale(h, "/grid/gamma", PD_SC_GAMMA, "gamma", "point");
  pd_h5_scale(h, "/grid/gamma_prime", PD_SC_GAMMA_PRIME, "gamma_prime",
              "point");
  pd_h5_scale(h, "/grid/width", PD_SC_WIDTH, "width", "width");
  pd_h5_scale(h, "/grid/seed", PD_SC_SEED, "seed", "seed");

  /* /runs: record t is [p, w, s] in row-major order */
  static const struct {
    const char *name;
    int field;
  } fd[] = {{"/runs/rd_w", PD_R_RDW},        {"/runs/rd_a", PD_R_RDA},
            {"/runs/final_loss", PD_R_LOSS}, {"/runs/initial_loss", PD_R_LOSS0},
            {"/runs/t_star", PD_R_TSTAR},    {"/runs/lambda_max", PD_R_LAMBDA},
            {"/runs/seconds", PD_R_SECONDS}};
  for (size_t i = 0; i < sizeof fd / sizeof fd[0]; i++) {
    if (h->root) pd_gather_field(res, nt, len, fd[i].field, buf);
    pd_h5_write(h, fd[i].name, H5T_NATIVE_DOUBLE, 3, dR, buf);
  }
  static const struct {
    const char *name;
    int field;
  } fi[] = {{"/runs/steps", PD_R_STEPS},
            {"/runs/rejected_steps", PD_R_REJECTED},
            {"/runs/evaluations", PD_R_EVALS}};
  for (size_t i = 0; i < sizeof fi / sizeof fi[0]; i++) {
    if (h->root)
      for (int64_t t = 0; t < nt; t++) {
        double v = res[t * len + fi[i].field];
        ibuf[t] = isfinite(v) ? (int64_t)v : -1;
      }
    pd_h5_write(h, fi[i].name, H5T_NATIVE_INT64, 3, dR, ibuf);
  }
  if (h->root)
    for (int64_t t = 0; t < nt; t++)
      bbuf[t] = (int8_t)res[t * len + PD_R_STATUS];
  pd_h5_write_codes(h, "/runs/status", H5T_NATIVE_INT8, PD_CODES_STATUS, 3, dR,
                    bbuf);
  pd_h5_attr_on(h, "/runs/status", "names",
                "0 converged, 1 max_steps, 2 diverged, 3 stalled, 4 "
                "stationary, -1 not run");

  /* /history: a block of each record */
  static const char *hist[] = {"/history/step", "/history/time",
                               "/history/loss", "/history/rd_w"};
  for (int k = 0; k < 4; k++) {
    if (h->root)
      for (int64_t t = 0; t < nt; t++)
        memcpy(buf + t * K, res + t * len + L->hist + k * K,
               sizeof(double) * (size_t)K);
    pd_h5_write(h, hist[k], H5T_NATIVE_DOUBLE, 4, dH, buf);
  }
  /* the loss ladder: its levels, then time and rd_w per run and level */
  const int64_t Q = PD_LADDER_LEVELS;
  const hsize_t dQ[1] = {(hsize_t)Q},
                dRQ[4] = {dR[0], dR[1], dR[2], (hsize_t)Q};
  for (int64_t k = 0; k < Q; k++) buf[k] = pd_ladder_level((int)k);
  pd_h5_write(h, "/history/ladder_loss", H5T_NATIVE_DOUBLE, 1, dQ, buf);
  pd_h5_scale(h, "/history/ladder_loss", PD_SC_LADDER, "loss level", "level");
  pd_h5_attr_on(h, "/history/ladder_loss", "description",
                "the loss ladder: levels 10^(2 - k/20), 1e2 down to 1e-14");
  static const char *const lad[2][2] = {
      {"/history/ladder_time",
       "flow time at the first accepted step with loss below each ladder "
       "level (0: at or above the initial loss; NaN: not reached)"},
      {"/history/ladder_rd_w",
       "rd_w at the first accepted step with loss below each ladder level "
       "(matched-loss RD; NaN: not reached)"}};
  for (int k = 0; k < 2; k++) {
    if (h->root)
      for (int64_t t = 0; t < nt; t++)
        memcpy(buf + t * Q, res + t * len + L->ladder + k * Q,
               sizeof(double) * (size_t)Q);
    pd_h5_write(h, lad[k][0], H5T_NATIVE_DOUBLE, 4, dRQ, buf);
    pd_h5_attr_on(h, lad[k][0], "description", lad[k][1]);
  }
  /* /phase */
  if (h->root) memcpy(buf, ph->slope, sizeof(double) * (size_t)P);
  pd_h5_write(h, "/phase/slope", H5T_NATIVE_DOUBLE, 1, dP, buf);
  if (h->root) memcpy(buf, ph->stderr_slope, sizeof(double) * (size_t)P);
  pd_h5_write(h, "/phase/slope_stderr", H5T_NATIVE_DOUBLE, 1, dP, buf);
  if (h->root) memcpy(buf, ph->boundary_distance, sizeof(double) * (size_t)P);
  pd_h5_write(h, "/phase/boundary_distance", H5T_NATIVE_DOUBLE, 1, dP, buf);
  pd_h5_write_codes(h, "/phase/regime", H5T_NATIVE_INT8, PD_CODES_REGIME, 1, dP,
                    h->root ? ph->regime : NULL);
  pd_h5_write_codes(h, "/phase/theory_regime", H5T_NATIVE_INT8, PD_CODES_REGIME,
                    1, dP, h->root ? ph->theory : NULL);
  pd_h5_write_codes(h, "/phase/agree", H5T_NATIVE_INT8, PD_CODES_AGREE, 1, dP,
                    h->root ? ph->agree : NULL);
  /* both slopes, the matched loss level and which slope decided */
  static const struct {
    const char *name, *what;
  } ps[] = {{"/phase/slope_tstar",
             "slope of log rd_w(t*) against log m over "
             "the converged runs"},
            {"/phase/slope_tstar_stderr", "its standard error"},
            {"/phase/slope_matched",
             "slope of log rd_w(L_ref) against log m: rd_w at the first step "
             "below loss_ref, over the runs with rd_w > 0 there"},
            {"/phase/slope_matched_stderr", "its standard error"},
            {"/phase/loss_ref",
             "L_ref: the lowest loss-ladder level every finished (not "
             "diverged) run of the point reached"}};
  /* the phase exists on the root only */
  const double *pv[5] = {NULL};
  if (h->root) {
    pv[0] = ph->slope_tstar, pv[1] = ph->stderr_tstar;
    pv[2] = ph->slope_matched, pv[3] = ph->stderr_matched;
    pv[4] = ph->loss_ref;
  }
  for (int i = 0; i < 5; i++) {
    if (h->root) memcpy(buf, pv[i], sizeof(double) * (size_t)P);
    pd_h5_write(h, ps[i].name, H5T_NATIVE_DOUBLE, 1, dP, buf);
    pd_h5_attr_on(h, ps[i].name, "description", ps[i].what);
  }
  pd_h5_write_codes(h, "/phase/decided_by", H5T_NATIVE_INT8, PD_CODES_DECIDED,
                    1, dP, h->root ? ph->decided : NULL);
  pd_h5_attr_on(h, "/phase/decided_by", "names",
                "0 t* (every run converged), 1 matched loss (slope_matched at "
                "loss_ref), -1 neither");
  const char *names = "0 linear, 1 critical, 2 condensed, -1 undetermined";
  pd_h5_attr_on(h, "/phase/regime", "names", names);
  pd_h5_attr_on(h, "/phase/theory_regime", "names", names);
  pd_write_fields(h, plan, L, res, buf, ibuf);
  pd_write_data(h, job);
  pd_write_descriptions(h, job);
}

/* The scheme labels, by rank 0 alone on the closed file: the MPI-IO driver
 * of HDF5 1.10 writes no variable-length data (neither collectively nor
 * from one rank), and the labels are variable-length UTF-8 so that h5py
 * reads str.  A failure leaves h->err set on rank 0. */
static void pd_write_labels(pd_h5 *h, const pd_plan *plan) {
  const int P = plan->P;
  const char **lab = NULL;
  char(*copy)[PD_LABEL_LEN + 1] = NULL;
  if (pd_calloc((size_t)P + 1, sizeof *lab, &lab) != PD_OK ||
      pd_calloc((size_t)P + 1, sizeof *copy, &copy) != PD_OK) {
    h->err = PD_ERR_ALLOC;
    pd_free(&lab);
    return;
  }
  for (int p = 0; p < P; p++) {
    memcpy(copy[p], plan->points[p].label, PD_LABEL_LEN);
    lab[p] = copy[p];
  }
  h->file = H5Fopen(h->path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (h->file < 0) {
    pd_h5_fail(h, "reopen", h->path);
  } else {
    const hsize_t dP[1] = {(hsize_t)P};
    hid_t t = pd_h5meta_text(), sp = H5Screate_simple(1, dP, NULL);
    hid_t ds = t < 0 || sp < 0
                   ? -1
                   : H5Dcreate2(h->file, "/grid/label", t, sp, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0) {
      pd_h5_fail(h, "write", "/grid/label");
    } else {
      pd_h5_attr_str(h, ds, "description",
                     "the named scheme of a point (ntk, mean_field, ...), "
                     "empty for a grid point");
      hid_t g = H5Dopen2(h->file, "/grid/gamma", H5P_DEFAULT);
      hid_t gp = H5Dopen2(h->file, "/grid/gamma_prime", H5P_DEFAULT);
      if (g < 0 || gp < 0) pd_h5_fail(h, "open", "the /grid scales");
      pd_h5_dim(h, ds, "/grid/label", 0, g, "point");
      pd_h5_dim(h, ds, "/grid/label", 0, gp, NULL);
      if (g >= 0) H5Dclose(g);
      if (gp >= 0) H5Dclose(gp);
    }
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    /* as after the parallel pass: a full disk must not keep the close
     * from completing (the file is removed anyway) */
    if (h->err != PD_OK && truncate(h->path, 0) != 0)
      pd_h5_fail(h, "empty the partial file", h->path);
    if (H5Fclose(h->file) < 0) pd_h5_fail(h, "close", h->path);
  }
  pd_free(&lab);
  pd_free(&copy);
}

int64_t pd_output_scratch(const pd_plan *plan, const pd_layout *L) {
  /* the history, the ladder; the fields below */
  int64_t most = L->K > PD_LADDER_LEVELS ? L->K : PD_LADDER_LEVELS;
  pd_field f[PD_FIELDS_MAX];
  int nf = 0;
  if (pd_layout_fields(L, f, PD_FIELDS_MAX, &nf) == PD_OK)
    for (int k = 0; k < nf; k++) {
      int64_t per = 1;
      for (int r = 0; r < f[k].rank; r++) per *= f[k].dims[r];
      if (per > most) most = per;
    }
  int64_t n = plan->ntasks * most;
  if (n < plan->P * PD_LABEL_LEN) n = plan->P * PD_LABEL_LEN;
  if (n < plan->S) n = plan->S;
  return n;
}

int pd_output_write(MPI_Comm comm, const char *path, const pd_file_id *expected,
                    const pd_plan *plan, const pd_job *job,
                    const double *results, const pd_phase *phase,
                    const pd_provenance *prov) {
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  pd_timer_start(PD_T_IO);
  char tmp[PD_CONFIG_MAX_PATH + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* scratch for one dataset: the largest of the history and the fields */
  const int64_t n = pd_output_scratch(plan, &job->layout);
  double *buf = NULL;
  int64_t *ibuf = NULL;
  int8_t *bbuf = NULL;
  /* every rank fills the small plan-derived datasets itself */
  int err = pd_calloc((size_t)n, sizeof(double), &buf);
  if (!err) err = pd_calloc((size_t)(n + plan->S), sizeof(int64_t), &ibuf);
  if (!err) err = pd_calloc((size_t)plan->ntasks, sizeof(int8_t), &bbuf);
  if (err) {
    pd_free(&buf);
    pd_free(&ibuf);
  }
  PD_COLLECTIVE(comm, err);

  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack */
  pd_h5 h = {.path = tmp,
             .root = rank == 0,
             .err = PD_OK,
             .P = plan->P,
             .W = plan->W,
             .S = plan->S};
  for (int i = 0; i < PD_SC_N; i++) h.scale[i] = -1;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  h.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (h.file < 0) pd_h5_fail(&h, "create", tmp);
  err = pd_error_collective(comm, h.err, __FILE__, __LINE__);
  if (err == PD_OK) {
    h.xfer = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(h.xfer, H5FD_MPIO_COLLECTIVE);
    pd_write_layout(&h, plan, job, results, phase, buf, ibuf, bbuf);
    /* provenance on the root group (metadata: same values on every rank) */
    char when[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    /* rank 0's clock: an attribute must have the same value on every rank */
    PD_CALL_MPI(MPI_Bcast(when, (int)sizeof when, MPI_CHAR, 0, comm));
    pd_h5_attr_str(&h, h.file, "software", "phasediag");
    pd_h5_attr_str(&h, h.file, "version", PD_VERSION);
    pd_h5_attr_str(&h, h.file, "git_commit", PD_GIT_COMMIT);
    pd_h5_attr_str(&h, h.file, "config_text", prov->config_text);
    long ranks = prov->mpi_ranks, group = prov->group_size;
    pd_h5_attr_scalar(&h, h.file, "mpi_ranks", H5T_NATIVE_LONG, &ranks);
    pd_h5_attr_scalar(&h, h.file, "group_size", H5T_NATIVE_LONG, &group);
    /* the input weights' coordinates trained: the rank of the data's span
     * (span.h), or d in the input space */
    long dim = plan->dnet;
    pd_h5_attr_scalar(&h, h.file, "effective_dim", H5T_NATIVE_LONG, &dim);
    /* the same on every rank: rank 0's clock, shared by the caller */
    pd_h5_attr_scalar(&h, h.file, "wall_seconds", H5T_NATIVE_DOUBLE,
                      &prov->wall_seconds);
    pd_h5_attr_str(&h, h.file, "created_utc", when);
    H5Pclose(h.xfer);
    for (int i = 0; i < PD_SC_N; i++)
      if (h.scale[i] >= 0) H5Dclose(h.scale[i]);
    /* A failed write (a full disk) leaves data that the close must still
     * flush; a close that fails leaves the file half-open inside HDF5 1.10,
     * which then crashes in MPI_Finalize.  The partial file (removed
     * anyway) is emptied first, so the close has room to complete. */
    int failed = h.err != PD_OK, any = 0;
    PD_CALL_MPI(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm));
    if (any && rank == 0 && truncate(tmp, 0) != 0)
      pd_h5_fail(&h, "empty the partial file", tmp);
    if (any) PD_CALL_MPI(MPI_Barrier(comm));
    if (H5Fclose(h.file) < 0) pd_h5_fail(&h, "close", tmp);
    err = pd_error_collective(comm, h.err, __FILE__, __LINE__);
  }
  if (err == PD_OK) {
    if (rank == 0) pd_write_labels(&h, plan);
    err = pd_error_collective(comm, h.err, __FILE__, __LINE__);
  }
  if (rank == 0) {
    /* a failed placement keeps the complete result under its .tmp name */
    if (err == PD_OK)
      err = pd_file_place(tmp, path, expected);
    else
      remove(tmp);
  }
  pd_free(&buf);
  pd_free(&ibuf);
  pd_free(&bbuf);
  pd_timer_stop(PD_T_IO);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}
