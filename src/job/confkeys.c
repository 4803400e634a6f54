#include "phasediag/job/confkeys.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/activation_defs.h" /* PD_ACT_COUNT */
#include "phasediag/base/error.h"
#include "phasediag/job/conftext.h"
#include "phasediag/job/dataset.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/scheme.h"
#include "phasediag/train/integrator.h"

/* ---- the table ----------------------------------------------------------- */

static const char *const pd_section_names[PD_S_COUNT] = {
    [PD_S_DATA] = "data",         [PD_S_GRID] = "grid",
    [PD_S_MODEL] = "model",       [PD_S_TRAIN] = "train",
    [PD_S_CLASSIFY] = "classify", [PD_S_FEATURES] = "features",
    [PD_S_SPECTRAL] = "spectral", [PD_S_NTK] = "ntk",
    [PD_S_RUN] = "run",           [PD_S_OUTPUT] = "output"};

/* Names in the order of the values they stand for (pd_data_source,
 * pd_sampling, pd_test_kind, PD_SP_* bits, PD_GRIDSPEC_*). */
static const char *const pd_source_names[] = {"builtin", "hdf5", "idx"};
static const char *const pd_sampling_names[] = {"auto", "uniform", "random"};
static const char *const pd_span_names[] = {"auto", "off"};
static const char *const pd_test_names[] = {"none", "grid", "holdout"};
/* the registered activations (activation.h), in registry order */
static const char *pd_activation_of(int i) {
  int n = 0;
  const pd_activation *list = pd_activation_list(&n);
  return i >= 0 && i < n ? list[i].name : NULL;
}
static const char *const pd_method_names[] = {"dft", "projection", "filter",
                                              "grid"};
static const char *const pd_grid_method_names[] = {"auto", "gather", "reduce"};

static const char *pd_scheme_of(int kind) {
  return pd_scheme_name((pd_scheme_kind)kind);
}

static const double pd_default_freqs[] = {1, 3, 5};
static const double pd_default_one[] = {1};

#define PD_MEMBER(f) (((pd_config *)0)->f)
/* The field a scalar key's value goes to. */
#define PD_FIELD(f) \
  .offset = offsetof(pd_config, f), .size = sizeof PD_MEMBER(f)
/* A list: the array, its capacity and its count. */
#define PD_LIST(a, n)                                               \
  .offset = offsetof(pd_config, a), .size = sizeof PD_MEMBER(a)[0], \
  .count = offsetof(pd_config, n),                                  \
  .max_items = (int)(sizeof PD_MEMBER(a) / sizeof PD_MEMBER(a)[0])
#define PD_NAMES(a) .names = a, .nnames = (int)(sizeof a / sizeof a[0])
#define PD_INF INFINITY
#define PD_OPEN (PD_KEY_OPEN_LO | PD_KEY_OPEN_HI)

static const pd_confkey pd_keys[PD_K_COUNT] = {
    /* [data] */
    [PD_K_SOURCE] = {PD_S_DATA, "source", PD_KT_CHOICE, PD_FIELD(source),
                     PD_NAMES(pd_source_names),
                     .doc = "where the training data come from"},
    [PD_K_BUILTIN] = {PD_S_DATA, "builtin", PD_KT_NAME, PD_FIELD(builtin),
                      .names = pd_dataset_builtin_names,
                      .nnames = PD_DATASET_NBUILTIN, .text = "paper1d",
                      .doc = "the built-in set (paper1d: x = -1/2, -1/6, 1/6, "
                             "1/2; y = x^2; zhou2022: y = sum_j 3.5 sin(5 x_j "
                             "+ 1) on [-4, 2]^d; the others: dataset.h)"},
    [PD_K_N] = {PD_S_DATA, "n", PD_KT_INT, PD_FIELD(n), .imin = 1,
                .imax = PD_KEY_NOMAX,
                .shown = "64; parity: 2^(d-1); zhou2022: 80; idx: 1000",
                .doc = "training points of a synthetic set; source = idx: "
                       "the first n samples"},
    [PD_K_D] = {PD_S_DATA, "d", PD_KT_INT, PD_FIELD(d), .imin = 1,
                .imax = 1 << 20, .shown = "1; parity: 10; zhou2022: 5",
                .doc = "input dimension of a synthetic set (parity: d <= 20)"},
    [PD_K_DATA_SEED] = {PD_S_DATA, "data_seed", PD_KT_INT, PD_FIELD(data_seed),
                        .imin = 0, .imax = PD_KEY_NOMAX, .value = 1,
                        .doc = "seed of a synthetic set"},
    [PD_K_DATA_FILE] = {PD_S_DATA, "file", PD_KT_PATH, PD_FIELD(data_file),
                        .shown = "required for hdf5",
                        .doc = "source = hdf5: a file with the inputs (n x d) "
                               "and the targets (n)"},
    [PD_K_X_DATASET] = {PD_S_DATA, "x_dataset", PD_KT_PATH, PD_FIELD(x_dataset),
                        .text = PD_DATAFILE_X,
                        .doc = "source = hdf5: the name of the inputs' "
                               "dataset in the file (n x d, or n for d = 1; "
                               "a path in it such as train/x)"},
    [PD_K_Y_DATASET] = {PD_S_DATA, "y_dataset", PD_KT_PATH, PD_FIELD(y_dataset),
                        .text = PD_DATAFILE_Y,
                        .doc = "source = hdf5: the name of the targets' "
                               "dataset in the file (n)"},
    [PD_K_IMAGES] = {PD_S_DATA, "images", PD_KT_PATH, PD_FIELD(images),
                     .text = PD_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz",
                     .doc = "source = idx: MNIST-format images (gzip or "
                            "plain); x = pixels / 255"},
    [PD_K_LABELS] = {PD_S_DATA, "labels", PD_KT_PATH, PD_FIELD(labels),
                     .text = PD_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz",
                     .doc = "source = idx: MNIST-format labels; y = label / 9"},
    [PD_K_FREQUENCIES] = {PD_S_DATA, "frequencies", PD_KT_INT_LIST,
                          PD_LIST(freqs, nfreq), .imin = 1, .imax = 1 << 20,
                          .list = pd_default_freqs, .def_n = 3,
                          .doc = "harmonics: y = (1/d) sum_j sum_f sin(f x_j) "
                                 "on [-pi, pi)^d"},
    [PD_K_SAMPLING] = {PD_S_DATA, "sampling", PD_KT_CHOICE, PD_FIELD(sampling),
                       PD_NAMES(pd_sampling_names),
                       .doc = "harmonics inputs: uniform (d = 1: one period, "
                              "exact DFT; auto's choice for d = 1) or random"},
    [PD_K_TEST] = {PD_S_DATA, "test", PD_KT_CHOICE, PD_FIELD(test),
                   PD_NAMES(pd_test_names),
                   .shown = "`none`; parity: `holdout`",
                   .doc = "a test set: grid (evenly over a 1-D built-in "
                          "target's domain) or holdout (unseen points)"},
    [PD_K_TEST_N] = {PD_S_DATA, "test_n", PD_KT_INT, PD_FIELD(test_n),
                     .imin = 1, .imax = INT64_C(1) << 30,
                     .shown = "grid 512; holdout n/4, idx 250, hdf5 a fifth, "
                              "parity the rest",
                     .doc = "test points (files: the last samples)"},
    /* [grid] */
    [PD_K_GAMMA] = {PD_S_GRID, "gamma", PD_KT_GRID_LIST, PD_LIST(gamma, ngamma),
                    .lo = -PD_INF, .hi = PD_INF, .shown = "none",
                    .doc = "grid points: every gamma with every gamma_prime"},
    [PD_K_GAMMA_PRIME] = {PD_S_GRID, "gamma_prime", PD_KT_GRID_LIST,
                          PD_LIST(gamma_prime, ngamma_prime), .lo = -PD_INF,
                          .hi = PD_INF, .shown = "none",
                          .doc = "gamma' of the grid points (give both or "
                                 "neither)"},
    [PD_K_WIDTHS] = {PD_S_GRID, "widths", PD_KT_INT_LIST,
                     PD_LIST(widths, nwidths), .imin = 2,
                     .imax = INT64_C(1) << 62, .shown = "required",
                     .doc = "network widths m (even with asi; 1e4 accepted)"},
    [PD_K_SEEDS] = {PD_S_GRID, "seeds", PD_KT_INT_LIST, PD_LIST(seeds, nseeds),
                    .imin = 0, .imax = PD_KEY_NOMAX, .list = pd_default_one,
                    .def_n = 1,
                    .doc = "initialization seeds: one run per point, width "
                           "and seed"},
    [PD_K_SCHEMES] = {PD_S_GRID, "schemes", PD_KT_CHOICE_LIST,
                      PD_LIST(schemes, nschemes), .name_of = pd_scheme_of,
                      .first = PD_SCHEME_NTK,
                      .nnames = PD_SCHEME_COUNT - PD_SCHEME_NTK,
                      .shown = "none",
                      .doc = "named schemes, scanned as extra points"},
    /* [model] */
    [PD_K_ASI] = {PD_S_MODEL, "asi", PD_KT_BOOL, PD_FIELD(asi), .value = 1,
                  .doc = "antisymmetric init: pairs (a, w), (-a, w), so f = 0 "
                         "at t = 0"},
    [PD_K_BASE_SCALE] = {PD_S_MODEL, "base_scale", PD_KT_REAL,
                         PD_FIELD(base_scale), .lo = 0, .hi = PD_INF,
                         .open = PD_OPEN, .value = 1,
                         .doc = "beta2 of the grid points (beta1 = beta2 "
                                "m^-gamma', alpha = beta1 beta2 m^gamma)"},
    [PD_K_ACTIVATION] = {PD_S_MODEL, "activation", PD_KT_NAME,
                         PD_FIELD(activation), .name_of = pd_activation_of,
                         .nnames = PD_ACT_COUNT, .text = "relu",
                         .doc = "the hidden units' nonlinearity"},
    [PD_K_SPAN] = {PD_S_MODEL, "span", PD_KT_CHOICE, PD_FIELD(span),
                   PD_NAMES(pd_span_names),
                   .doc = "auto: train the input weights in the span of the "
                          "data points (exact; r coordinates instead of d) "
                          "where it is smaller and [spectral] is off; off: "
                          "in the input space"},
    /* [train] */
    [PD_K_TOL] = {PD_S_TRAIN, "tol", PD_KT_REAL, PD_FIELD(train.tol), .lo = 0,
                  .hi = PD_INF, .open = PD_OPEN, .value = 1e-6,
                  .doc = "t* = the first time the loss is below tol"},
    [PD_K_MAX_STEPS] = {PD_S_TRAIN, "max_steps", PD_KT_INT,
                        PD_FIELD(train.max_steps), .imin = 0,
                        .imax = PD_KEY_NOMAX, .value = 1000000,
                        .doc = "accepted steps per run at most"},
    [PD_K_LR_CAP] = {PD_S_TRAIN, "lr_cap", PD_KT_REAL, PD_FIELD(train.lr_cap),
                     .lo = 0, .hi = 2, .open = PD_OPEN, .value = 1,
                     .doc = "the step is at most lr_cap / lambda_max of the "
                            "Gram matrix"},
    [PD_K_LR_GROW] = {PD_S_TRAIN, "lr_grow", PD_KT_REAL,
                      PD_FIELD(train.lr_grow), .lo = 1, .hi = 10, .value = 1.1,
                      .doc = "step factor after an accepted step"},
    [PD_K_LR_SHRINK] = {PD_S_TRAIN, "lr_shrink", PD_KT_REAL,
                        PD_FIELD(train.lr_shrink), .lo = 0, .hi = 1,
                        .open = PD_OPEN, .value = 0.5,
                        .doc = "step factor after a rejected step (the loss "
                               "rose), which is retried"},
    [PD_K_LAMBDA_EVERY] = {PD_S_TRAIN, "lambda_every", PD_KT_INT,
                           PD_FIELD(train.lambda_every), .imin = 1,
                           .imax = PD_KEY_NOMAX, .value = 10,
                           .doc = "accepted steps between lambda_max "
                                  "estimates"},
    [PD_K_POWER_ITERS] = {PD_S_TRAIN, "power_iters", PD_KT_INT,
                          PD_FIELD(train.power_iters), .imin = 1, .imax = 1000,
                          .value = 3,
                          .doc = "power iterations per lambda_max estimate "
                                 "(30 at the start)"},
    [PD_K_MAX_REJECTS] = {PD_S_TRAIN, "max_rejects", PD_KT_INT,
                          PD_FIELD(train.max_rejects), .imin = 1, .imax = 1000,
                          .value = 60,
                          .doc = "consecutive rejected steps that mean "
                                 "divergence"},
    [PD_K_MAX_REL_STEP] = {PD_S_TRAIN, "max_rel_step", PD_KT_REAL,
                           PD_FIELD(train.max_rel_step), .lo = 0, .hi = 10,
                           .open = PD_KEY_OPEN_LO, .value = 0.1,
                           .doc = "trust bound: a step moves a and w by at "
                                  "most this fraction of their norms"},
    [PD_K_HISTORY_POINTS] = {PD_S_TRAIN, "history_points", PD_KT_INT,
                             PD_FIELD(train.history_points), .imin = 2,
                             .imax = 100000, .value = 64,
                             .doc = "log-spaced history records per run"},
    [PD_K_INTEGRATOR] = {PD_S_TRAIN, "integrator", PD_KT_NAME,
                         PD_FIELD(train.integrator),
                         .name_of = pd_integrator_name,
                         .nnames = PD_INTEGRATOR_COUNT, .text = "gd",
                         .doc = "the step rule (flow integrator): gd "
                                "(gradient descent) or rkc (Runge-Kutta-"
                                "Chebyshev, error-controlled)"},
    [PD_K_RTOL] = {PD_S_TRAIN, "rtol", PD_KT_REAL, PD_FIELD(train.rtol),
                   .lo = 0, .hi = 1, .open = PD_OPEN, .value = 1e-4,
                   .doc = "rkc: local error of a step relative to its motion "
                          "of a and of w"},
    [PD_K_STATIONARY_TOL] =
        {PD_S_TRAIN, "stationary_tol", PD_KT_REAL,
         PD_FIELD(train.stationary_tol), .lo = 0, .hi = 1,
         .open = PD_KEY_OPEN_HI, .value = 1e-10,
         .doc = "a run stops as stationary when its "
                "gradient norm falls below this times "
                "the norm at the start (0: only at an exact zero)"},
    [PD_K_PLATEAU_STEPS] = {PD_S_TRAIN, "plateau_steps", PD_KT_INT,
                            PD_FIELD(train.plateau_steps), .imin = 0,
                            .imax = PD_KEY_NOMAX, .value = 0,
                            .doc = "opt-in: stop as stalled after this many "
                                   "steps without a 1e-4 relative gain (a "
                                   "saddle's plateau stops it too; 0 = "
                                   "never)"},
    /* [classify] */
    [PD_K_BAND] = {PD_S_CLASSIFY, "band", PD_KT_REAL, PD_FIELD(band), .lo = 0,
                   .hi = PD_INF, .open = PD_KEY_OPEN_HI, .value = 0.1,
                   .doc = "critical if |slope of log RD vs log m| < band; "
                          "below linear, above condensed"},
    /* [features] */
    [PD_K_CAP] = {PD_S_FEATURES, "cap", PD_KT_INT, PD_FIELD(feature_cap),
                  .imin = 1, .imax = 1000000, .value = 256,
                  .doc = "neurons kept per condensation snapshot"},
    [PD_K_COS_THRESHOLD] = {PD_S_FEATURES, "cos_threshold", PD_KT_REAL,
                            PD_FIELD(cos_threshold), .lo = 0, .hi = 1,
                            .open = PD_OPEN, .value = 0.99,
                            .doc = "neurons with a cosine >= this share a "
                                   "direction (clusters)"},
    [PD_K_TRACK] = {PD_S_FEATURES, "track", PD_KT_BOOL, PD_FIELD(feature_track),
                    .doc = "count orientation clusters of the cap sampled "
                           "neurons at every snapshot, with cosine matrices "
                           "at t = 0, in the initial stage and at the end "
                           "(/condensation)"},
    [PD_K_AMP_CUT] = {PD_S_FEATURES, "amp_cut", PD_KT_REAL,
                      PD_FIELD(feature_amp_cut), .lo = 0, .hi = 1,
                      .open = PD_KEY_OPEN_LO, .value = 0.1,
                      .doc = "track: a neuron counts when |a_k| |(w_k, b_k)| "
                             "is at least this fraction of the largest"},
    [PD_K_MATRIX] = {PD_S_FEATURES, "matrix", PD_KT_INT,
                     PD_FIELD(feature_matrix), .imin = 2, .imax = 1024,
                     .value = 32,
                     .doc = "track: neurons of the cosine matrices"},
    /* [spectral] */
    [PD_K_SP_ENABLED] = {PD_S_SPECTRAL, "enabled", PD_KT_BOOL,
                         PD_FIELD(spectral),
                         .doc = "F-Principle measures at the snapshots "
                                "(/spectral)"},
    [PD_K_SP_SNAPSHOTS] = {PD_S_SPECTRAL, "snapshots", PD_KT_INT,
                           PD_FIELD(train.snapshots), .imin = 0, .imax = 10000,
                           .value = 32,
                           .doc = "log-spaced snapshot steps in [1, "
                                  "max_steps], plus step 0 and the stop (also "
                                  "for [ntk] and [features] track)"},
    [PD_K_SP_METHODS] = {PD_S_SPECTRAL, "methods", PD_KT_CHOICE_SET,
                         PD_FIELD(sp_methods), PD_NAMES(pd_method_names),
                         .shown = "`dft` if d = 1, else `projection, filter`",
                         .doc = "dft (1-D), projection, filter, grid (d <= 4, "
                                "an analytic built-in target)"},
    [PD_K_SP_PEAKS] = {PD_S_SPECTRAL, "peaks", PD_KT_INT, PD_FIELD(sp_peaks),
                       .imin = 1, .imax = 1024, .value = 8,
                       .doc = "peaks tracked at most"},
    [PD_K_SP_PEAK_REL] = {PD_S_SPECTRAL, "peak_rel", PD_KT_REAL,
                          PD_FIELD(sp_peak_rel), .lo = 0, .hi = 1,
                          .open = PD_KEY_OPEN_LO, .value = 1e-2,
                          .doc = "a peak is at least this fraction of the "
                                 "largest"},
    [PD_K_SP_MAX_FREQ] = {PD_S_SPECTRAL, "max_freq", PD_KT_INT,
                          PD_FIELD(sp_max_freq), .imin = 0, .imax = 1 << 20,
                          .zero = "n / 2",
                          .doc = "DFT frequencies searched for peaks"},
    [PD_K_SP_DELTA_TOL] = {PD_S_SPECTRAL, "delta_tol", PD_KT_REAL,
                           PD_FIELD(sp_delta_tol), .lo = 0, .hi = PD_INF,
                           .open = PD_OPEN, .value = 0.1,
                           .doc = "a peak, shell or filter part has converged "
                                  "when its relative error is below this"},
    [PD_K_SP_DELTAS] = {PD_S_SPECTRAL, "deltas", PD_KT_REAL_LIST,
                        PD_LIST(sp_deltas, sp_ndeltas), .lo = 0, .hi = PD_INF,
                        .open = PD_OPEN, .list = pd_default_one, .def_n = 1,
                        .doc = "Gaussian filter widths delta"},
    [PD_K_SP_GRID_N] = {PD_S_SPECTRAL, "grid_n", PD_KT_INT, PD_FIELD(sp_grid_n),
                        .imin = 2, .imax = 1 << 16, .value = 32,
                        .doc = "grid points per dimension (methods = grid)"},
    [PD_K_SP_GRID_METHOD] = {PD_S_SPECTRAL, "grid_method", PD_KT_CHOICE,
                             PD_FIELD(sp_grid_method),
                             PD_NAMES(pd_grid_method_names),
                             .doc = "the network on the grid: gather, reduce "
                                    "or auto (fewer bytes)"},
    /* [ntk] */
    [PD_K_NTK_ENABLED] = {PD_S_NTK, "enabled", PD_KT_BOOL, PD_FIELD(ntk),
                          .doc = "linear theory per run (/ntk)"},
    [PD_K_NTK_TOP] = {PD_S_NTK, "top", PD_KT_INT, PD_FIELD(ntk_top), .imin = 1,
                      .imax = 100000, .value = 16,
                      .doc = "eigen-components stored and followed over "
                             "training"},
    [PD_K_NTK_RIDGE] = {PD_S_NTK, "ridge", PD_KT_REAL, PD_FIELD(ntk_ridge),
                        .lo = 0, .hi = PD_INF, .open = PD_KEY_OPEN_HI,
                        .doc = "kernel regression solves (Theta + ridge I) c "
                               "= y - f0"},
    [PD_K_NTK_LFP] = {PD_S_NTK, "lfp", PD_KT_BOOL, PD_FIELD(ntk_lfp),
                      .value = 1,
                      .doc = "LFP, spline and piecewise-linear comparison "
                             "(1-D, with a test set)"},
    /* [run] */
    [PD_K_GROUP_SIZE] = {PD_S_RUN, "group_size", PD_KT_INT,
                         PD_FIELD(group_size), .imin = 0, .imax = PD_KEY_NOMAX,
                         .zero = "automatic",
                         .doc = "ranks per training group (--group-size)"},
    [PD_K_CHECKPOINT] = {PD_S_RUN, "checkpoint", PD_KT_PATH,
                         PD_FIELD(checkpoint), .shown = "OUTPUT.ckpt",
                         .doc = "the checkpoint file"},
    [PD_K_CHECKPOINT_INTERVAL] = {PD_S_RUN, "checkpoint_interval", PD_KT_REAL,
                                  PD_FIELD(checkpoint_interval), .lo = 0,
                                  .hi = 1e9, .value = 600, .zero = "off",
                                  .unit = "seconds",
                                  .doc = "time between checkpoints (off: only "
                                         "on a stop signal)"},
    /* [output] */
    [PD_K_OUTPUT_FILE] = {PD_S_OUTPUT, "file", PD_KT_PATH, PD_FIELD(output),
                          .text = "phasediag.h5",
                          .doc = "the result file (--output)"},
    [PD_K_OVERWRITE] = {PD_S_OUTPUT, "overwrite", PD_KT_BOOL,
                        PD_FIELD(overwrite),
                        .doc = "replace an existing result file "
                               "(--overwrite)"},
};

/* ---- lookup -------------------------------------------------------------- */

const pd_confkey *pd_confkey_get(int k) {
  return k >= 0 && k < PD_K_COUNT ? &pd_keys[k] : NULL;
}

const char *pd_confkey_section(int s) {
  return s >= 0 && s < PD_S_COUNT ? pd_section_names[s] : "?";
}

int pd_confkey_find_section(const char *name) {
  for (int s = 0; s < PD_S_COUNT; s++)
    if (strcmp(name, pd_section_names[s]) == 0) return s;
  return -1;
}

int pd_confkey_find(int s, const char *name) {
  for (int k = 0; k < PD_K_COUNT; k++)
    if (pd_keys[k].section == s && strcmp(pd_keys[k].name, name) == 0) return k;
  return -1;
}

const char *pd_confkey_choice(const pd_confkey *k, int i) {
  if (i < 0 || i >= k->nnames) return NULL;
  return k->names ? k->names[i] : k->name_of(k->first + i);
}

int pd_confkey_choice_value(const pd_confkey *k, int i) { return k->first + i; }

/* ---- ranges -------------------------------------------------------------- */

/* The largest value an integer key's field holds. */
static int64_t pd_int_max(const pd_confkey *k) {
  int64_t field = k->size == sizeof(int) ? INT_MAX : INT64_MAX;
  return k->imax < field ? k->imax : field;
}

int pd_confkey_int_ok(const pd_confkey *k, int64_t v) {
  return v >= k->imin && v <= pd_int_max(k);
}

int pd_confkey_real_ok(const pd_confkey *k, double x) {
  return isfinite(x) && x >= k->lo && x <= k->hi &&
         !((k->open & PD_KEY_OPEN_LO) && x == k->lo) &&
         !((k->open & PD_KEY_OPEN_HI) && x == k->hi);
}

/* ---- fields, defaults and checks ----------------------------------------- */

void *pd_confkey_field(const pd_confkey *k, pd_config *cfg) {
  return (char *)cfg + k->offset;
}

void pd_confkey_store_int(const pd_confkey *k, void *p, int64_t v) {
  if (k->size == sizeof(int)) {
    int x = (int)v;
    memcpy(p, &x, sizeof x);
  } else {
    memcpy(p, &v, sizeof v);
  }
}

int64_t pd_confkey_load_int(const pd_confkey *k, const void *p) {
  if (k->size == sizeof(int)) {
    int x = 0;
    memcpy(&x, p, sizeof x);
    return x;
  }
  int64_t v = 0;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Keys stored in pd_train_options, and where that lies in pd_config. */
static const size_t pd_train_at = offsetof(pd_config, train);
static int pd_in_train(const pd_confkey *k) {
  return k->offset >= pd_train_at &&
         k->offset < pd_train_at + sizeof(pd_train_options);
}

/* Key k's default into the struct at base, which starts at offset `at` of
 * pd_config (0: base is a pd_config; pd_train_at: a pd_train_options). */
static void pd_default_into(const pd_confkey *k, char *base, size_t at) {
  char *p = base + (k->offset - at);
  switch (k->type) {
    case PD_KT_INT: pd_confkey_store_int(k, p, (int64_t)k->value); return;
    case PD_KT_REAL: memcpy(p, &k->value, sizeof k->value); return;
    case PD_KT_BOOL:
    case PD_KT_CHOICE: {
      int v = (k->type == PD_KT_CHOICE ? k->first : 0) + (int)k->value;
      memcpy(p, &v, sizeof v);
      return;
    }
    case PD_KT_NAME:
    case PD_KT_PATH:
      memset(p, 0, k->size);
      if (k->text) memcpy(p, k->text, strlen(k->text));
      return;
    case PD_KT_INT_LIST:
    case PD_KT_REAL_LIST:
      if (k->def_n == 0) return;
      for (int i = 0; i < k->def_n; i++) {
        char *e = p + (size_t)i * k->size;
        if (k->type == PD_KT_INT_LIST)
          pd_confkey_store_int(k, e, (int64_t)k->list[i]);
        else
          memcpy(e, &k->list[i], sizeof(double));
      }
      memcpy(base + (k->count - at), &k->def_n, sizeof k->def_n);
      return;
    default: return; /* empty lists, no bits: zero */
  }
}

void pd_confkeys_defaults(pd_config *cfg) {
  for (int k = 0; k < PD_K_COUNT; k++)
    pd_default_into(&pd_keys[k], (char *)cfg, 0);
}

void pd_confkeys_train_defaults(pd_train_options *opt) {
  for (int k = 0; k < PD_K_COUNT; k++)
    if (pd_in_train(&pd_keys[k]))
      pd_default_into(&pd_keys[k], (char *)opt, pd_train_at);
}

/* A scalar key's value at p: PD_OK if the key accepts it or it is the
 * default, else PD_ERR_ARG naming the key, the value and the range. */
static int pd_check_value(const pd_confkey *k, const char *p) {
  char got[64] = "", what[512];
  int ok = 1;
  if (k->type == PD_KT_INT) {
    int64_t v = pd_confkey_load_int(k, p);
    ok = pd_confkey_int_ok(k, v) || v == (int64_t)k->value;
    snprintf(got, sizeof got, "%lld", (long long)v);
  } else if (k->type == PD_KT_REAL) {
    double x = 0;
    memcpy(&x, p, sizeof x);
    ok = pd_confkey_real_ok(k, x) || x == k->value;
    snprintf(got, sizeof got, "%g", x);
  } else if (k->type == PD_KT_BOOL || k->type == PD_KT_CHOICE) {
    int v = 0;
    memcpy(&v, p, sizeof v);
    ok = k->type == PD_KT_BOOL ? v == 0 || v == 1
                               : v >= k->first && v - k->first < k->nnames;
    snprintf(got, sizeof got, "%d", v);
  } else if (k->type == PD_KT_NAME) {
    ok = 0;
    for (int i = 0; i < k->nnames; i++)
      ok |= strncmp(p, pd_confkey_choice(k, i), k->size) == 0;
    snprintf(got, sizeof got, "'%.*s'", (int)(k->size < 32 ? k->size : 32), p);
  }
  if (ok) return PD_OK;
  pd_conftext_expected(k, what, sizeof what);
  return pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                        "[%s] %s = %s: expected %s",
                        pd_section_names[k->section], k->name, got, what);
}

int pd_confkeys_check(const pd_config *cfg) {
  PD_CHECK(cfg != NULL, PD_ERR_ARG, "pd_confkeys_check: cfg is NULL");
  for (int k = 0; k < PD_K_COUNT; k++)
    PD_CALL(pd_check_value(&pd_keys[k], (const char *)cfg + pd_keys[k].offset));
  return PD_OK;
}

int pd_confkeys_check_train(const pd_train_options *opt) {
  PD_CHECK(opt != NULL, PD_ERR_ARG, "pd_confkeys_check_train: opt is NULL");
  for (int k = 0; k < PD_K_COUNT; k++)
    if (pd_in_train(&pd_keys[k]))
      PD_CALL(pd_check_value(
          &pd_keys[k], (const char *)opt + (pd_keys[k].offset - pd_train_at)));
  return PD_OK;
}

/* ---- the table's own consistency ----------------------------------------- */

/* A key's default within its range (unless documented as automatic). */
static int pd_default_ok(const pd_confkey *k) {
  switch (k->type) {
    case PD_KT_INT:
      return (k->size == sizeof(int) || k->size == sizeof(int64_t)) &&
             (k->shown || pd_confkey_int_ok(k, (int64_t)k->value));
    case PD_KT_REAL:
      return k->size == sizeof(double) &&
             (k->shown || pd_confkey_real_ok(k, k->value));
    case PD_KT_BOOL:
      return k->size == sizeof(int) && (k->value == 0 || k->value == 1);
    case PD_KT_CHOICE:
      return k->size == sizeof(int) && k->value >= 0 && k->value < k->nnames;
    case PD_KT_NAME: {
      int found = 0;
      for (int i = 0; i < k->nnames; i++) {
        const char *s = pd_confkey_choice(k, i);
        if (strlen(s) >= k->size) return 0;
        found |= k->text && strcmp(s, k->text) == 0;
      }
      return found;
    }
    case PD_KT_PATH: return k->shown || (k->text && strlen(k->text) < k->size);
    case PD_KT_INT_LIST:
    case PD_KT_REAL_LIST:
      for (int i = 0; i < k->def_n; i++)
        if (k->type == PD_KT_INT_LIST
                ? !pd_confkey_int_ok(k, (int64_t)k->list[i])
                : !pd_confkey_real_ok(k, k->list[i]))
          return 0;
      return k->count > 0 && k->def_n <= k->max_items &&
             (k->def_n > 0 || k->shown);
    case PD_KT_GRID_LIST: return k->count > 0 && k->size == sizeof(double);
    case PD_KT_CHOICE_LIST:
      return k->count > 0 && k->size == sizeof(int) &&
             k->nnames <= k->max_items;
    case PD_KT_CHOICE_SET: return k->size == sizeof(int) && k->nnames <= 30;
  }
  return 0;
}

int pd_confkeys_self_check(void) {
  for (int i = 0; i < PD_K_COUNT; i++) {
    const pd_confkey *k = &pd_keys[i];
    PD_CHECK(k->name != NULL && k->doc != NULL && k->section >= 0 &&
                 k->section < PD_S_COUNT,
             PD_ERR_ARG, "key table: entry %d is incomplete", i);
    PD_CHECK(pd_confkey_find(k->section, k->name) == i, PD_ERR_ARG,
             "key table: [%s] %s is listed twice", pd_section_names[k->section],
             k->name);
    PD_CHECK(k->offset + k->size <= sizeof(pd_config), PD_ERR_ARG,
             "key table: [%s] %s: field outside pd_config",
             pd_section_names[k->section], k->name);
    PD_CHECK(pd_default_ok(k), PD_ERR_ARG,
             "key table: [%s] %s: the default or the field does not fit the "
             "key's type and range",
             pd_section_names[k->section], k->name);
    if (k > pd_keys)
      PD_CHECK(k->section >= k[-1].section, PD_ERR_ARG,
               "key table: [%s] %s is not with the keys of its section",
               pd_section_names[k->section], k->name);
  }
  return PD_OK;
}
