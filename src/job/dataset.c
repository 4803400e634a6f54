/* Data sources: built-in targets, the data files of datafile.h, and the
 * collective loader that reads on rank 0 and broadcasts. */
#include "phasediag/job/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"

#define PD_DATASET_DEFAULT_N 64
#define PD_DATASET_DEFAULT_D 1
#define PD_RELU_MIX_TERMS 4
#define PD_RELU_MIX_TASK 1000 /* key (data_seed, 1000 + r) for term r */
#define PD_DATA_X_TASK 0      /* key (data_seed, 0): the inputs */
#define PD_PARITY_TASK 2      /* key (data_seed, 2): the corner order */

static const double pd_pi = 3.14159265358979323846;

/* ---- built-in data sets ------------------------------------------------- */

/* x_ij = 2 U(seed, 0, i, j) - 1, in (-1, 1) */
static void pd_uniform_inputs(pd_data *s, uint64_t seed) {
  for (int64_t i = 0; i < s->n; i++)
    for (int j = 0; j < s->d; j++)
      s->x[i * s->d + j] =
          2.0 * pd_rng_uniform(seed, PD_DATA_X_TASK, (uint64_t)i, (uint64_t)j) -
          1.0;
}

static void pd_sines(int64_t n, int d, const double *x, double *y) {
  for (int64_t i = 0; i < n; i++) {
    double v = 0;
    for (int j = 0; j < d; j++) {
      double t = x[i * d + j];
      v += sin(pd_pi * t) + sin(3.0 * pd_pi * t) / 3.0;
    }
    y[i] = v / d;
  }
}

/* y = (1/d) sum_j sum_f sin(f x_j): on [-pi, pi)^d the power sits at the
 * wave vectors f e_j, so at |k| = f exactly. */
static void pd_harmonics(int nfreq, const int64_t *freqs, int64_t n, int d,
                         const double *x, double *y) {
  for (int64_t i = 0; i < n; i++) {
    double v = 0;
    for (int j = 0; j < d; j++)
      for (int f = 0; f < nfreq; f++) v += sin((double)freqs[f] * x[i * d + j]);
    y[i] = v / d;
  }
}

/* y = sum_j 3.5 sin(5 x_j + 1) */
static void pd_zhou2022(int64_t n, int d, const double *x, double *y) {
  for (int64_t i = 0; i < n; i++) {
    double v = 0;
    for (int j = 0; j < d; j++) v += 3.5 * sin(5.0 * x[i * d + j] + 1.0);
    y[i] = v;
  }
}

static void pd_paper1d_target(int64_t n, const double *x, double *y) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
}

/* y = sum_r c_r relu(u_r . x + b_r): u_r = g / |g| with g_j = N(seed,
 * 1000 + r, j, 0), b_r = 2 U(seed, 1000 + r, 0, 1) - 1, c_r = N(seed,
 * 1000 + r, 0, 2).  |b_r| < 1 puts every kink through the cube. */
static int pd_relu_mix(int64_t n, int d, const double *x, double *y,
                       uint64_t seed) {
  double *u = NULL;
  PD_CALL(pd_calloc((size_t)PD_RELU_MIX_TERMS * (size_t)d, sizeof *u, &u));
  double b[PD_RELU_MIX_TERMS], c[PD_RELU_MIX_TERMS];
  for (int r = 0; r < PD_RELU_MIX_TERMS; r++) {
    const uint64_t task = PD_RELU_MIX_TASK + (uint64_t)r;
    double *ur = u + (size_t)r * (size_t)d, norm2 = 0;
    for (int j = 0; j < d; j++) {
      ur[j] = pd_rng_normal(seed, task, (uint64_t)j, 0);
      norm2 += ur[j] * ur[j];
    }
    if (norm2 > 0) {
      const double inv = 1.0 / sqrt(norm2);
      for (int j = 0; j < d; j++) ur[j] *= inv;
    } else {
      ur[0] = 1.0; /* probability zero, but keep u_r a unit vector */
    }
    b[r] = 2.0 * pd_rng_uniform(seed, task, 0, 1) - 1.0;
    c[r] = pd_rng_normal(seed, task, 0, 2);
  }
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    double v = 0;
    for (int r = 0; r < PD_RELU_MIX_TERMS; r++) {
      const double *ur = u + (size_t)r * (size_t)d;
      double z = b[r];
      for (int j = 0; j < d; j++) z += ur[j] * xi[j];
      if (z > 0) v += c[r] * z;
    }
    y[i] = v;
  }
  pd_free(&u);
  return PD_OK;
}

const char *const pd_dataset_builtin_names[PD_DATASET_NBUILTIN] = {
    "paper1d", "sines", "relu_mix", "harmonics", "parity", "zhou2022"};

static const int64_t pd_default_freqs[3] = {1, 3, 5};

/* The target of a built-in set (not parity) at n points. */
static int pd_builtin_target(const char *name, int nfreq, const int64_t *freqs,
                             uint64_t seed, int64_t n, int d, const double *x,
                             double *y) {
  if (strcmp(name, "paper1d") == 0) {
    PD_CHECK(d == 1, PD_ERR_ARG, "paper1d is 1-D, got d = %d", d);
    pd_paper1d_target(n, x, y);
  } else if (strcmp(name, "sines") == 0) {
    pd_sines(n, d, x, y);
  } else if (strcmp(name, "harmonics") == 0) {
    pd_harmonics(nfreq, freqs, n, d, x, y);
  } else if (strcmp(name, "relu_mix") == 0) {
    PD_CALL(pd_relu_mix(n, d, x, y, seed));
  } else if (strcmp(name, "zhou2022") == 0) {
    pd_zhou2022(n, d, x, y);
  } else {
    PD_CHECK(0, PD_ERR_ARG,
             "built-in data set '%s' has no target function between its "
             "points (expected paper1d, sines, relu_mix, harmonics or "
             "zhou2022)",
             name);
  }
  return PD_OK;
}

int pd_dataset_target(const pd_config *cfg, int64_t n, int d, const double *x,
                      double *y) {
  PD_CHECK(cfg->source == PD_DATA_BUILTIN, PD_ERR_ARG,
           "the target is known between the data only for built-in sets");
  PD_CALL(pd_builtin_target(cfg->builtin, cfg->nfreq, cfg->freqs,
                            cfg->data_seed, n, d, x, y));
  return PD_OK;
}

void pd_dataset_domain(const pd_config *cfg, double *lo, double *hi) {
  const char *b = cfg->builtin;
  if (cfg->source == PD_DATA_BUILTIN && strcmp(b, "paper1d") == 0) {
    *lo = -0.5;
    *hi = 0.5;
  } else if (cfg->source == PD_DATA_BUILTIN && strcmp(b, "harmonics") == 0) {
    *lo = -pd_pi;
    *hi = pd_pi;
  } else if (cfg->source == PD_DATA_BUILTIN && strcmp(b, "zhou2022") == 0) {
    *lo = -4;
    *hi = 2;
  } else {
    *lo = -1;
    *hi = 1;
  }
}

/* parity: the 2^d corners of {-1, 1}^d in a Philox-shuffled order (sorted by
 * a uniform key per corner, ties by index), y = prod_j x_j; the first n. */
typedef struct {
  double key;
  int64_t corner;
} pd_corner;
static int pd_corner_cmp(const void *a, const void *b) {
  const pd_corner *p = a, *q = b;
  if (p->key != q->key) return p->key < q->key ? -1 : 1;
  return p->corner < q->corner ? -1 : p->corner > q->corner;
}

static int pd_parity(int64_t n, int d, uint64_t seed, pd_data **data) {
  PD_CHECK(d >= 1 && d <= 20, PD_ERR_ARG, "parity: d = %d not in [1, 20]", d);
  const int64_t corners = INT64_C(1) << d;
  PD_CHECK(n >= 1 && n <= corners, PD_ERR_ARG,
           "parity: n = %lld not in [1, 2^d = %lld]", (long long)n,
           (long long)corners);
  pd_corner *c = NULL;
  PD_CALL(pd_calloc((size_t)corners, sizeof *c, &c));
  for (int64_t k = 0; k < corners; k++)
    c[k] = (pd_corner){pd_rng_uniform(seed, PD_PARITY_TASK, (uint64_t)k, 0), k};
  qsort(c, (size_t)corners, sizeof *c, pd_corner_cmp);
  pd_data *s = NULL;
  int err = pd_data_create(n, d, &s);
  if (err == PD_OK)
    for (int64_t i = 0; i < n; i++) {
      double y = 1;
      for (int j = 0; j < d; j++) {
        double v = (c[i].corner >> j) & 1 ? 1.0 : -1.0;
        s->x[i * d + j] = v;
        y *= v;
      }
      s->y[i] = y;
    }
  pd_free(&c);
  PD_CALL(err);
  *data = s;
  return PD_OK;
}

/* n points of a built-in set (after the defaults). */
static int pd_builtin_points(const char *name, int nfreq, const int64_t *freqs,
                             int sampling, int64_t n, int d, uint64_t seed,
                             pd_data **data) {
  if (strcmp(name, "paper1d") == 0) {
    PD_CALL(pd_data_paper1d(data));
    return PD_OK;
  }
  if (strcmp(name, "parity") == 0) {
    PD_CALL(pd_parity(n, d, seed, data));
    return PD_OK;
  }
  pd_data *s = NULL;
  PD_CALL(pd_data_create(n, d, &s));
  const int harmonics = strcmp(name, "harmonics") == 0;
  if (harmonics && d == 1 && sampling != PD_SAMPLING_RANDOM) {
    for (int64_t i = 0; i < n; i++) /* uniform on [-pi, pi): a period */
      s->x[i] = -pd_pi + 2.0 * pd_pi * (double)i / (double)n;
  } else {
    PD_CHECK(!harmonics || sampling != PD_SAMPLING_UNIFORM, PD_ERR_ARG,
             "harmonics: sampling = uniform needs d = 1, got d = %d", d);
    pd_uniform_inputs(s, seed);
    if (harmonics)
      for (int64_t i = 0; i < n * d; i++) s->x[i] *= pd_pi;
    if (strcmp(name, "zhou2022") == 0) /* 2U - 1 in (-1, 1) to 6U - 4 */
      for (int64_t i = 0; i < n * d; i++) s->x[i] = 3.0 * s->x[i] - 1.0;
  }
  int err = pd_builtin_target(name, nfreq, freqs, seed, n, d, s->x, s->y);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    return pd_error_trace(err, __FILE__, __LINE__, __func__,
                          "pd_builtin_target");
  }
  *data = s;
  return PD_OK;
}

int pd_dataset_builtin(const char *name, int64_t n, int d, uint64_t seed,
                       pd_data **data) {
  PD_CHECK(data != NULL, PD_ERR_ARG, "pd_dataset_builtin: data is NULL");
  *data = NULL;
  PD_CHECK(name != NULL, PD_ERR_ARG, "built-in data set: no name given");
  int known = 0;
  char names[128] = "";
  for (int i = 0; i < PD_DATASET_NBUILTIN; i++) {
    const char *b = pd_dataset_builtin_names[i];
    known |= strcmp(name, b) == 0;
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s",
             i == 0                         ? ""
             : i == PD_DATASET_NBUILTIN - 1 ? " or "
                                            : ", ",
             b);
  }
  PD_CHECK(known, PD_ERR_ARG, "unknown built-in data set '%s' (expected %s)",
           name, names);
  PD_CHECK(n >= 0, PD_ERR_ARG, "built-in data set %s: n = %lld must be >= 0",
           name, (long long)n);
  PD_CHECK(d >= 0, PD_ERR_ARG, "built-in data set %s: d = %d must be >= 0",
           name, d);
  const int parity = strcmp(name, "parity") == 0;
  const int zhou = strcmp(name, "zhou2022") == 0;
  if (d == 0) d = parity ? 10 : zhou ? PD_ZHOU2022_D : PD_DATASET_DEFAULT_D;
  if (n == 0)
    n = parity ? (INT64_C(1) << (d < 20 ? d : 20)) / 2
        : zhou ? PD_ZHOU2022_N
               : PD_DATASET_DEFAULT_N;
  PD_CALL(pd_builtin_points(name, 3, pd_default_freqs, PD_SAMPLING_AUTO, n, d,
                            seed, data));
  return PD_OK;
}

/* ---- collective loader ----------------------------------------------------
 */

static int pd_dataset_local(const pd_config *cfg, int64_t extra,
                            pd_data **data) {
  switch (cfg->source) {
    case PD_DATA_BUILTIN: {
      const int parity = strcmp(cfg->builtin, "parity") == 0;
      int d = cfg->d > 0 ? cfg->d : parity ? 10 : PD_DATASET_DEFAULT_D;
      int64_t n = cfg->n > 0 ? cfg->n
                  : parity   ? (INT64_C(1) << d) / 2
                             : PD_DATASET_DEFAULT_N;
      PD_CALL(pd_builtin_points(cfg->builtin, cfg->nfreq, cfg->freqs,
                                cfg->sampling, n + (parity ? extra : 0), d,
                                cfg->data_seed, data));
      return PD_OK;
    }
    case PD_DATA_HDF5:
      PD_CALL(pd_dataset_read_hdf5_sets(cfg->data_file, cfg->x_dataset,
                                        cfg->y_dataset, data));
      return PD_OK;
    case PD_DATA_IDX:
      PD_CALL(pd_dataset_read_idx(cfg->images, cfg->labels,
                                  (cfg->n > 0 ? cfg->n : 1000) + extra, data));
      return PD_OK;
    default:
      PD_CHECK(0, PD_ERR_CONFIG,
               "unknown data source %d (expected builtin, hdf5 or idx)",
               cfg->source);
  }
  return PD_OK;
}

/* Move the last k samples of *all into a new set *tail (all keeps n - k). */
static int pd_split_tail(pd_data *all, int64_t k, pd_data **tail) {
  PD_CHECK(k >= 1 && k < all->n, PD_ERR_CONFIG,
           "[data] test = holdout: %lld test points out of %lld samples leaves "
           "no training set",
           (long long)k, (long long)all->n);
  const int64_t n = all->n - k;
  PD_CALL(pd_data_create(k, all->d, tail));
  memcpy((*tail)->x, all->x + n * all->d,
         sizeof(double) * (size_t)(k * all->d));
  memcpy((*tail)->y, all->y + n, sizeof(double) * (size_t)k);
  all->n = n;
  return PD_OK;
}

/* Samples beyond the training set that the source must supply. */
static int64_t pd_dataset_extra(const pd_config *cfg) {
  if (cfg->test != PD_TEST_HOLDOUT) return 0;
  if (cfg->source == PD_DATA_IDX) return cfg->test_n > 0 ? cfg->test_n : 250;
  if (cfg->source == PD_DATA_BUILTIN && strcmp(cfg->builtin, "parity") == 0) {
    int d = cfg->d > 0 ? cfg->d : 10;
    int64_t n = cfg->n > 0 ? cfg->n : (INT64_C(1) << d) / 2;
    return cfg->test_n > 0 ? cfg->test_n : (INT64_C(1) << d) - n;
  }
  return 0;
}

/* The test set [data] test asks for, beside the training set s (local). */
static int pd_dataset_test_local(const pd_config *cfg, pd_data *s,
                                 pd_data **test) {
  *test = NULL;
  const int parity =
      cfg->source == PD_DATA_BUILTIN && strcmp(cfg->builtin, "parity") == 0;
  if (cfg->test == PD_TEST_GRID) { /* dense 1-D grid over the domain */
    const int64_t k = cfg->test_n > 0 ? cfg->test_n : 512;
    double lo, hi;
    pd_dataset_domain(cfg, &lo, &hi);
    PD_CALL(pd_data_create(k, 1, test));
    for (int64_t i = 0; i < k; i++)
      (*test)->x[i] = lo + (hi - lo) * (double)i / (double)(k > 1 ? k - 1 : 1);
    int err = pd_dataset_target(cfg, k, 1, (*test)->x, (*test)->y);
    if (err != PD_OK) pd_data_destroy(test);
    PD_CALL(err);
  } else if (cfg->test == PD_TEST_HOLDOUT && parity) {
    PD_CALL(pd_split_tail(s, pd_dataset_extra(cfg), test));
  } else if (cfg->test == PD_TEST_HOLDOUT && cfg->source == PD_DATA_BUILTIN) {
    /* fresh points from the same stream: indices n, n + 1, ... */
    const int64_t k = cfg->test_n > 0 ? cfg->test_n : (s->n + 3) / 4;
    pd_data *big = NULL;
    const int harmonics = strcmp(cfg->builtin, "harmonics") == 0;
    PD_CALL(pd_data_create(s->n + k, s->d, &big));
    pd_uniform_inputs(big, cfg->data_seed);
    if (harmonics)
      for (int64_t i = 0; i < big->n * big->d; i++) big->x[i] *= pd_pi;
    int err = pd_split_tail(big, k, test);
    pd_data_destroy(&big);
    if (err == PD_OK)
      err = pd_dataset_target(cfg, k, s->d, (*test)->x, (*test)->y);
    if (err != PD_OK) pd_data_destroy(test);
    PD_CALL(err);
  } else if (cfg->test == PD_TEST_HOLDOUT) { /* files: the last samples */
    const int64_t k = cfg->source == PD_DATA_IDX ? pd_dataset_extra(cfg)
                      : cfg->test_n > 0          ? cfg->test_n
                                                 : s->n / 5;
    PD_CALL(pd_split_tail(s, k, test));
  }
  return PD_OK;
}

/* Broadcast count doubles from rank 0 in pieces that fit an int count. */
static int pd_bcast_doubles(double *v, size_t count, MPI_Comm comm) {
  const size_t chunk = (size_t)1 << 26;
  for (size_t k = 0; k < count; k += chunk) {
    const size_t len = count - k < chunk ? count - k : chunk;
    PD_CALL_MPI(MPI_Bcast(v + k, (int)len, MPI_DOUBLE, 0, comm));
  }
  return PD_OK;
}

#define PD_DATASET_MSG 1536 /* bytes of rank 0's message sent to the others */

/* Collective: rank 0's outcome err and its set s (may be NULL: no set) on
 * every rank. */
static int pd_share_set(MPI_Comm comm, int rank, int err, pd_data **set) {
  pd_data *s = rank == 0 ? *set : NULL;
  int64_t head[4] = {err, s != NULL, s ? s->n : 0, s ? s->d : 0};
  int mpierr = MPI_Bcast(head, 4, MPI_INT64_T, 0, comm);
  if (mpierr != MPI_SUCCESS) {
    if (rank == 0) pd_data_destroy(set);
    return pd_error_mpi(mpierr, __FILE__, __LINE__, __func__,
                        "MPI_Bcast(head, 4, MPI_INT64_T, 0, comm)");
  }
  if (head[0] != PD_OK) {
    /* the same code and rank 0's message on every rank */
    char msg[PD_DATASET_MSG];
    if (rank == 0) snprintf(msg, sizeof msg, "%s", pd_error_message());
    PD_CALL_MPI(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, 0, comm));
    msg[sizeof msg - 1] = '\0';
    if (rank == 0)
      return pd_error_trace(err, __FILE__, __LINE__, __func__,
                            "reading the data on rank 0");
    return pd_error_raise((int)head[0], __FILE__, __LINE__, __func__,
                          "reading the data on rank 0 failed: %s", msg);
  }
  if (!head[1]) return PD_OK;
  err = PD_OK;
  if (rank != 0) err = pd_data_create(head[2], (int)head[3], &s);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err == PD_OK)
    err = pd_bcast_doubles(s->x, (size_t)s->n * (size_t)s->d, comm);
  if (err == PD_OK) err = pd_bcast_doubles(s->y, (size_t)s->n, comm);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    if (rank == 0) *set = NULL;
    return err;
  }
  *set = s;
  return PD_OK;
}

int pd_dataset_load_sets(MPI_Comm comm, const pd_config *cfg, pd_data **data,
                         pd_data **test) {
  int err = PD_OK;
  if (data == NULL)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "pd_dataset_load: data is NULL");
  else
    *data = NULL;
  if (test) *test = NULL;
  if (err == PD_OK && cfg == NULL)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "pd_dataset_load: cfg is NULL");
  PD_COLLECTIVE(comm, err);
  int rank = 0;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  /* rank 0 reads; the sets and its status reach every rank */
  pd_data *s = NULL, *t = NULL;
  if (rank == 0) {
    err = pd_dataset_local(cfg, pd_dataset_extra(cfg), &s);
    if (err == PD_OK) err = pd_dataset_test_local(cfg, s, &t);
    if (err != PD_OK) pd_data_destroy(&s);
  }
  PD_CALL(pd_share_set(comm, rank, err, &s));
  err = pd_share_set(comm, rank, PD_OK, &t);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    return err;
  }
  *data = s;
  if (test)
    *test = t;
  else
    pd_data_destroy(&t);
  return PD_OK;
}

int pd_dataset_load(MPI_Comm comm, const pd_config *cfg, pd_data **data) {
  PD_CALL(pd_dataset_load_sets(comm, cfg, data, NULL));
  return PD_OK;
}
