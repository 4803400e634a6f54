/* Data sources: built-in sets, HDF5 files (/x and /y, or datasets named
 * otherwise), IDX files (plain and gzip), the real Fashion-MNIST files, and
 * the collective loader. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* the HDF5 include directory is private to the library: find the header */
#if defined(__has_include)
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#include <hdf5/openmpi/hdf5.h>
#endif
#else
#include <hdf5.h>
#endif

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/job/dataset.h"

static const double pi = 3.14159265358979323846;

/* ---- helpers ---------------------------------------------------------- */

#define MAX_TEMP 32
static char temp_files[MAX_TEMP][256];
static int ntemp;

/* a unique path in /tmp for this process, removed at the end */
static const char *temp_path(const char *tag, long pid) {
  if (ntemp >= MAX_TEMP) {
    fprintf(stderr, "FAIL: too many temp files\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  snprintf(temp_files[ntemp], sizeof temp_files[ntemp],
           "/tmp/pd_test_dataset_%ld_%s", pid, tag);
  return temp_files[ntemp++];
}

static void remove_temp_files(void) {
  for (int k = 0; k < ntemp; k++) unlink(temp_files[k]);
}

static int has(const char *fragment) {
  return strstr(pd_error_message(), fragment) != NULL;
}

/* FNV-1a over n, d and the bytes of x and y */
static uint64_t digest(const pd_data *s) {
  uint64_t h = 1469598103934665603ull;
  const unsigned char *p;
  int64_t hdr[2] = {s->n, s->d};
  p = (const unsigned char *)hdr;
  for (size_t k = 0; k < sizeof hdr; k++) h = (h ^ p[k]) * 1099511628211ull;
  p = (const unsigned char *)s->x;
  for (size_t k = 0; k < (size_t)s->n * (size_t)s->d * sizeof(double); k++)
    h = (h ^ p[k]) * 1099511628211ull;
  p = (const unsigned char *)s->y;
  for (size_t k = 0; k < (size_t)s->n * sizeof(double); k++)
    h = (h ^ p[k]) * 1099511628211ull;
  return h;
}

static int same_bits(const pd_data *a, const pd_data *b) {
  return a->n == b->n && a->d == b->d &&
         memcmp(a->x, b->x, (size_t)a->n * (size_t)a->d * sizeof(double)) ==
             0 &&
         memcmp(a->y, b->y, (size_t)a->n * sizeof(double)) == 0;
}

/* the same digest on every rank of MPI_COMM_WORLD */
static int agreed(uint64_t h) {
  unsigned long long lo = h, hi = h, mine = h;
  MPI_Allreduce(&mine, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&mine, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

/* a configuration without pd_config_parse: zeroed, then the data keys */
static pd_config *new_config(void) {
  pd_config *cfg = NULL;
  PD_TEST_OK(pd_calloc(1, sizeof *cfg, &cfg));
  cfg->source = PD_DATA_BUILTIN;
  snprintf(cfg->builtin, sizeof cfg->builtin, "paper1d");
  cfg->data_seed = 1;
  snprintf(cfg->x_dataset, sizeof cfg->x_dataset, PD_DATAFILE_X);
  snprintf(cfg->y_dataset, sizeof cfg->y_dataset, PD_DATAFILE_Y);
  return cfg;
}

/* ---- built-in data sets ------------------------------------------------- */

/* x within [-1, 1], y finite and not constant, given n and d */
static void check_synthetic(const pd_data *s, const char *name, int64_t n,
                            int d) {
  PD_TEST_CHECK(s->n == n && s->d == d, "%s: %lld x %d, expected %lld x %d",
                name, (long long)s->n, s->d, (long long)n, d);
  int out = 0, nonfinite = 0, varies = 0;
  for (int64_t k = 0; k < s->n * s->d; k++)
    out += !(s->x[k] >= -1.0 && s->x[k] <= 1.0);
  for (int64_t i = 0; i < s->n; i++) {
    nonfinite += !isfinite(s->y[i]);
    varies += s->y[i] != s->y[0];
  }
  PD_TEST_CHECK(out == 0, "%s: %d inputs outside [-1, 1]", name, out);
  PD_TEST_CHECK(nonfinite == 0, "%s: %d non-finite targets", name, nonfinite);
  PD_TEST_CHECK(varies > 0, "%s: constant targets", name);
}

/* the relu_mix target as documented in dataset.h, recomputed here */
static double relu_mix_ref(const double *x, int d, uint64_t seed) {
  double y = 0;
  for (int r = 0; r < 4; r++) {
    const uint64_t task = 1000 + (uint64_t)r;
    double norm2 = 0, dot = 0;
    for (int j = 0; j < d; j++) {
      double g = pd_rng_normal(seed, task, (uint64_t)j, 0);
      norm2 += g * g;
      dot += g * x[j];
    }
    double z = dot / sqrt(norm2) + 2 * pd_rng_uniform(seed, task, 0, 1) - 1;
    if (z > 0) y += pd_rng_normal(seed, task, 0, 2) * z;
  }
  return y;
}

/* x is the documented Philox stream, y the documented target (t = 0:
 * sines, 1: relu_mix) */
static void check_formula(const pd_data *a, int t, uint64_t seed) {
  const int d = a->d;
  int xbad = 0, ybad = 0;
  for (int64_t i = 0; i < a->n; i++) {
    double ys = 0;
    for (int j = 0; j < d; j++) {
      double xj = a->x[i * d + j];
      xbad += xj != 2 * pd_rng_uniform(seed, 0, (uint64_t)i, (uint64_t)j) - 1;
      ys += sin(pi * xj) + sin(3 * pi * xj) / 3;
    }
    double want = t == 0 ? ys / d : relu_mix_ref(a->x + i * d, d, seed);
    ybad += pd_test_rel(a->y[i], want) > 1e-12 && fabs(a->y[i] - want) > 1e-14;
  }
  PD_TEST_CHECK(xbad == 0,
                "%s d=%d: %d inputs differ from 2 U(seed, 0, i, j) - 1",
                t ? "relu_mix" : "sines", d, xbad);
  PD_TEST_CHECK(ybad == 0, "%s d=%d: %d targets differ from the formula",
                t ? "relu_mix" : "sines", d, ybad);
}

static void test_builtin(void) {
  pd_data *a = NULL, *b = NULL;
  /* paper1d: fixed 4 points, n and d ignored */
  PD_TEST_OK(pd_dataset_builtin("paper1d", 100, 3, 9, &a));
  const double xs[4] = {-0.5, -1.0 / 6.0, 1.0 / 6.0, 0.5};
  PD_TEST_CHECK(a->n == 4 && a->d == 1, "paper1d: %lld x %d", (long long)a->n,
                a->d);
  for (int i = 0; i < 4 && a->n == 4; i++)
    PD_TEST_CHECK(a->x[i] == xs[i] && a->y[i] == xs[i] * xs[i],
                  "paper1d point %d: (%g, %g)", i, a->x[i], a->y[i]);
  pd_data_destroy(&a);

  const char *names[2] = {"sines", "relu_mix"};
  for (int t = 0; t < 2; t++) {
    const char *name = names[t];
    /* defaults: n = 64, d = 1 */
    PD_TEST_OK(pd_dataset_builtin(name, 0, 0, 3, &a));
    check_synthetic(a, name, 64, 1);
    check_formula(a, t, 3);
    pd_data_destroy(&a);
    /* determinism: the same seed gives the same bits */
    PD_TEST_OK(pd_dataset_builtin(name, 200, 3, 7, &a));
    PD_TEST_OK(pd_dataset_builtin(name, 200, 3, 7, &b));
    check_synthetic(a, name, 200, 3);
    PD_TEST_CHECK(same_bits(a, b), "%s: seed 7 twice gave different data",
                  name);
    check_formula(a, t, 7);
    pd_data_destroy(&b);
    /* another seed gives other data */
    PD_TEST_OK(pd_dataset_builtin(name, 200, 3, 8, &b));
    PD_TEST_CHECK(memcmp(a->x, b->x, 600 * sizeof(double)) != 0 &&
                      memcmp(a->y, b->y, 200 * sizeof(double)) != 0,
                  "%s: seeds 7 and 8 gave the same data", name);
    pd_data_destroy(&a);
    pd_data_destroy(&b);
  }
  /* relu_mix: the targets are not all zero (some ReLU active), d = 1 too */
  PD_TEST_OK(pd_dataset_builtin("relu_mix", 50, 1, 11, &a));
  check_synthetic(a, "relu_mix d=1", 50, 1);
  check_formula(a, 1, 11);
  pd_data_destroy(&a);

  int err = pd_dataset_builtin("spirals", 10, 1, 1, &a);
  PD_TEST_CHECK(err == PD_ERR_ARG && a == NULL && has("unknown built-in") &&
                    has("spirals"),
                "unknown name: %d %s", err, pd_error_message());
  err = pd_dataset_builtin("sines", -5, 1, 1, &a);
  PD_TEST_CHECK(err == PD_ERR_ARG && a == NULL && has("n = -5"),
                "negative n: %d %s", err, pd_error_message());
}

/* ---- HDF5 --------------------------------------------------------------- */

static void h5_put(hid_t file, const char *name, hid_t type, int ndims,
                   const hsize_t *dims, const void *v) {
  hid_t space = H5Screate_simple(ndims, dims, NULL);
  hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
  if (space < 0 || set < 0 ||
      H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    fprintf(stderr, "FAIL: writing dataset %s\n", name);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  H5Dclose(set);
  H5Sclose(space);
}

/* a file with /x (xnd = 1 or 2 or 3, n rows) and /y (ynd-D, ydims) */
enum { HN = 12, HD = 3 };
static double hx[HN * HD], hy[HN];

static void write_h5(const char *path, int xnd, int ynd, const hsize_t *ydims,
                     hid_t ytype, const void *y) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    fprintf(stderr, "FAIL: creating %s\n", path);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (xnd == 1) {
    hsize_t xd[1] = {HN};
    h5_put(f, "x", H5T_NATIVE_DOUBLE, 1, xd, hx); /* the first 12 values */
  } else if (xnd == 2) {
    hsize_t xd[2] = {HN, HD};
    h5_put(f, "x", H5T_NATIVE_DOUBLE, 2, xd, hx);
  } else {
    hsize_t xd[3] = {HN, 1, HD};
    h5_put(f, "x", H5T_NATIVE_DOUBLE, 3, xd, hx);
  }
  if (y) h5_put(f, "y", ytype, ynd, ydims, y);
  H5Fclose(f);
}

static void fill_h5_values(void) {
  for (int i = 0; i < HN; i++) {
    for (int j = 0; j < HD; j++) hx[i * HD + j] = i - 0.25 * j + 1.0 / 3.0;
    hy[i] = i * i / 7.0 - 0.1;
  }
}

static void test_hdf5(long pid) {
  fill_h5_values();
  const hsize_t n12[1] = {HN}, n11[1] = {HN - 1}, m34[2] = {3, 4};
  pd_data *s = NULL;
  /* HDF5 prints its error stack by default; the reader silences it and
   * restores it */
  H5E_auto2_t before = NULL, after = NULL;
  void *before_data = NULL, *after_data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &before, &before_data);
  PD_TEST_CHECK(before != NULL, "HDF5 error printing is off at the start");

  /* /x 2-D: read back exactly */
  const char *p2 = temp_path("x2d.h5", pid);
  write_h5(p2, 2, 1, n12, H5T_NATIVE_DOUBLE, hy);
  PD_TEST_OK(pd_dataset_read_hdf5(p2, &s));
  PD_TEST_CHECK(s->n == HN && s->d == HD, "2-D /x: %lld x %d", (long long)s->n,
                s->d);
  if (s->n == HN && s->d == HD)
    PD_TEST_CHECK(
        memcmp(s->x, hx, sizeof hx) == 0 && memcmp(s->y, hy, sizeof hy) == 0,
        "2-D /x: values differ (x[5] %g, y[5] %g)", s->x[5], s->y[5]);
  pd_data_destroy(&s);

  /* /x 1-D (d = 1) and an integer /y converted to double */
  const char *p1 = temp_path("x1d.h5", pid);
  int32_t yi[HN];
  for (int i = 0; i < HN; i++) yi[i] = 3 * i - 17;
  write_h5(p1, 1, 1, n12, H5T_NATIVE_INT32, yi);
  PD_TEST_OK(pd_dataset_read_hdf5(p1, &s));
  PD_TEST_CHECK(s->n == HN && s->d == 1, "1-D /x: %lld x %d", (long long)s->n,
                s->d);
  int bad = 0;
  for (int i = 0; i < HN && s->n == HN; i++)
    bad += s->x[i] != hx[i] || s->y[i] != (double)(3 * i - 17);
  PD_TEST_CHECK(bad == 0, "1-D /x: %d values differ", bad);
  pd_data_destroy(&s);

  /* errors */

  const char *missing = temp_path("missing.h5", pid);
  int err = pd_dataset_read_hdf5(missing, &s);
  PD_TEST_CHECK(
      err == PD_ERR_IO && s == NULL && has(missing) && has("cannot open"),
      "missing file: %d %s", err, pd_error_message());

  const char *text = temp_path("text.h5", pid);
  FILE *f = fopen(text, "w");
  if (f) {
    fputs("not an HDF5 file at all\n", f);
    fclose(f);
  }
  /* with stderr sent to a file: nothing printed by HDF5 */
  const char *errlog = temp_path("stderr.txt", pid);
  fflush(stderr);
  int saved_fd = dup(2);
  FILE *log = fopen(errlog, "w");
  if (saved_fd < 0 || !log || dup2(fileno(log), 2) < 0) {
    fprintf(stderr, "FAIL: redirecting stderr\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  err = pd_dataset_read_hdf5(text, &s);
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  long printed =
      ftell(log) >= 0 && fseek(log, 0, SEEK_END) == 0 ? ftell(log) : -1;
  fclose(log);
  PD_TEST_CHECK(printed == 0, "HDF5 printed %ld bytes on stderr", printed);
  PD_TEST_CHECK(
      err == PD_ERR_IO && s == NULL && has(text) && has("not an HDF5 file"),
      "text file: %d %s", err, pd_error_message());

  const char *noy = temp_path("noy.h5", pid);
  write_h5(noy, 2, 1, n12, H5T_NATIVE_DOUBLE, NULL);
  err = pd_dataset_read_hdf5(noy, &s);
  PD_TEST_CHECK(
      err == PD_ERR_IO && s == NULL && has(noy) && has("dataset /y not found"),
      "missing /y: %d %s", err, pd_error_message());

  const char *shorty = temp_path("short.h5", pid);
  write_h5(shorty, 2, 1, n11, H5T_NATIVE_DOUBLE, hy);
  err = pd_dataset_read_hdf5(shorty, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(shorty) &&
                    has("dataset /y: expected 1-D of length 12 (the rows of "
                        "/x), found 1-D 11"),
                "length mismatch: %d %s", err, pd_error_message());

  const char *y2d = temp_path("y2d.h5", pid);
  write_h5(y2d, 2, 2, m34, H5T_NATIVE_DOUBLE, hy);
  err = pd_dataset_read_hdf5(y2d, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL &&
                    has("y2d.h5: dataset /y: expected 1-D of length 12 (the "
                        "rows of /x), found 2-D 3 x 4"),
                "2-D /y: %d %s", err, pd_error_message());

  const char *x3d = temp_path("x3d.h5", pid);
  write_h5(x3d, 3, 1, n12, H5T_NATIVE_DOUBLE, hy);
  err = pd_dataset_read_hdf5(x3d, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has("dataset /x") &&
                    has("found 3-D 12 x 1 x 3"),
                "3-D /x: %d %s", err, pd_error_message());

  const char *pnan = temp_path("nan.h5", pid);
  double ynan[HN];
  memcpy(ynan, hy, sizeof ynan);
  ynan[7] = NAN;
  write_h5(pnan, 2, 1, n12, H5T_NATIVE_DOUBLE, ynan);
  err = pd_dataset_read_hdf5(pnan, &s);
  PD_TEST_CHECK(err == PD_ERR_NUMERIC && s == NULL && has("dataset /y") &&
                    has("non-finite") && has("index 7"),
                "NaN in /y: %d %s", err, pd_error_message());

  H5Eget_auto2(H5E_DEFAULT, &after, &after_data);
  PD_TEST_CHECK(after == before && after_data == before_data,
                "HDF5's error handler was not restored");
}

/* A file whose datasets have other names: the inputs as /inputs and the
 * targets as /targets at the root, a copy of the inputs as /train/x in a
 * group, and extra datasets extra_00 ... so that the root holds `extra`
 * more than the message lists. */
static void write_h5_named(const char *path, int extra) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t g = f >= 0
                ? H5Gcreate2(f, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                : -1;
  if (f < 0 || g < 0) {
    fprintf(stderr, "FAIL: creating %s\n", path);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  const hsize_t xd[2] = {HN, HD}, yd[1] = {HN};
  h5_put(f, "inputs", H5T_NATIVE_DOUBLE, 2, xd, hx);
  h5_put(f, "targets", H5T_NATIVE_DOUBLE, 1, yd, hy);
  h5_put(g, "x", H5T_NATIVE_DOUBLE, 2, xd, hx);
  for (int k = 0; k < extra; k++) {
    char name[32];
    snprintf(name, sizeof name, "extra_%02d", k);
    h5_put(f, name, H5T_NATIVE_DOUBLE, 1, yd, hy);
  }
  H5Gclose(g);
  H5Fclose(f);
}

static void test_hdf5_names(long pid) {
  fill_h5_values();
  pd_data *s = NULL;
  const char *named = temp_path("named.h5", pid);
  write_h5_named(named, 0);

  /* named, with or without the leading slash, and inside a group */
  const char *xs[3] = {"inputs", "/inputs", "train/x"};
  for (int k = 0; k < 3; k++) {
    PD_TEST_OK(pd_dataset_read_hdf5_sets(named, xs[k], "targets", &s));
    PD_TEST_CHECK(s->n == HN && s->d == HD &&
                      memcmp(s->x, hx, sizeof hx) == 0 &&
                      memcmp(s->y, hy, sizeof hy) == 0,
                  "datasets %s and targets: wrong data", xs[k]);
    pd_data_destroy(&s);
  }

  /* the default names are not there: the message names the file, the
   * dataset asked for, the key that names another and what the root holds */
  int err = pd_dataset_read_hdf5(named, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(named) &&
                    has("dataset /x not found") && has("[data] x_dataset") &&
                    has("the datasets at the file's root: inputs, targets;") &&
                    has("group there: train"),
                "default names on a file without /x: %d %s", err,
                pd_error_message());
  err = pd_dataset_read_hdf5_sets(named, "inputs", "y", &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(named) &&
                    has("dataset /y not found (the target dataset: [data] "
                        "y_dataset names another)") &&
                    has("inputs, targets"),
                "missing /y: %d %s", err, pd_error_message());
  /* a missing group on the way is not found either */
  err = pd_dataset_read_hdf5_sets(named, "test/x", "targets", &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL &&
                    has("dataset /test/x not found (the input dataset") &&
                    has("inputs, targets"),
                "missing group: %d %s", err, pd_error_message());
  /* a group named as a dataset */
  err = pd_dataset_read_hdf5_sets(named, "train", "targets", &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL &&
                    has("/train cannot be opened as a dataset"),
                "group as dataset: %d %s", err, pd_error_message());
  /* the shape messages name the datasets as given */
  err = pd_dataset_read_hdf5_sets(named, "targets", "inputs", &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL &&
                    has("dataset /inputs: expected 1-D of length 12 (the "
                        "rows of /targets), found 2-D 12 x 3"),
                "swapped: %d %s", err, pd_error_message());

  /* a crowded root: ten datasets listed and how many more */
  const char *crowded = temp_path("crowded.h5", pid);
  write_h5_named(crowded, 11);
  err = pd_dataset_read_hdf5(crowded, &s);
  PD_TEST_CHECK(
      err == PD_ERR_IO && s == NULL &&
          has("the datasets at the file's root: extra_00, extra_01, ") &&
          has("extra_09 and 3 more; group there: train"),
      "crowded root: %d %s", err, pd_error_message());

  /* an empty file */
  const char *empty = temp_path("empty.h5", pid);
  hid_t f = H5Fcreate(empty, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f >= 0) H5Fclose(f);
  err = pd_dataset_read_hdf5(empty, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has("dataset /x not found") &&
                    has("the file has no dataset at its root"),
                "empty file: %d %s", err, pd_error_message());
}

/* ---- IDX ---------------------------------------------------------------- */

enum { IN = 5, IR = 3, IC = 2, ID = IR * IC };
static const unsigned char ilabels[IN] = {3, 0, 9, 7, 1};

static unsigned char ipixel(int i, int k) {
  return (unsigned char)((i * ID + k) * 8 + 7);
}

static void put_be32(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)(v >> 24);
  b[1] = (unsigned char)(v >> 16);
  b[2] = (unsigned char)(v >> 8);
  b[3] = (unsigned char)v;
}

/* write bytes, plain or gzip'd */
static void write_bytes(const char *path, const unsigned char *b, size_t len,
                        int gz) {
  int ok = 0;
  if (gz) {
    gzFile g = gzopen(path, "wb");
    if (g) ok = gzwrite(g, b, (unsigned)len) == (int)len;
    if (g) ok = gzclose(g) == Z_OK && ok;
  } else {
    FILE *f = fopen(path, "wb");
    if (f) ok = fwrite(b, 1, len, f) == len;
    if (f) ok = fclose(f) == 0 && ok;
  }
  if (!ok) {
    fprintf(stderr, "FAIL: writing %s\n", path);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* an image file with header count `count` holding `have` images */
static void write_images(const char *path, uint32_t magic, uint32_t count,
                         int have, int gz) {
  unsigned char b[16 + IN * ID];
  put_be32(b, magic);
  put_be32(b + 4, count);
  put_be32(b + 8, IR);
  put_be32(b + 12, IC);
  for (int i = 0; i < have; i++)
    for (int k = 0; k < ID; k++) b[16 + i * ID + k] = ipixel(i, k);
  write_bytes(path, b, 16 + (size_t)have * ID, gz);
}

static void write_labels(const char *path, uint32_t count,
                         const unsigned char *lab, int gz) {
  unsigned char b[8 + IN];
  put_be32(b, 0x00000801);
  put_be32(b + 4, count);
  memcpy(b + 8, lab, count);
  write_bytes(path, b, 8 + (size_t)count, gz);
}

static void check_idx(const pd_data *s, int64_t n, const char *what) {
  PD_TEST_CHECK(s->n == n && s->d == ID, "%s: %lld x %d", what, (long long)s->n,
                s->d);
  if (s->n != n || s->d != ID) return;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    for (int k = 0; k < ID; k++)
      bad += s->x[i * ID + k] != ipixel((int)i, k) / 255.0;
    bad += s->y[i] != ilabels[i] / 9.0;
  }
  PD_TEST_CHECK(bad == 0, "%s: %d values differ", what, bad);
}

static void test_idx(long pid) {
  pd_data *s = NULL;
  const char *ip = temp_path("images", pid), *lp = temp_path("labels", pid);
  const char *ig = temp_path("images.gz", pid),
             *lg = temp_path("labels.gz", pid);
  write_images(ip, 0x00000803, IN, IN, 0);
  write_labels(lp, IN, ilabels, 0);
  write_images(ig, 0x00000803, IN, IN, 1);
  write_labels(lg, IN, ilabels, 1);

  PD_TEST_OK(pd_dataset_read_idx(ip, lp, 4, &s));
  check_idx(s, 4, "plain, first 4");
  pd_data_destroy(&s);
  PD_TEST_OK(pd_dataset_read_idx(ig, lg, 4, &s));
  check_idx(s, 4, "gzip, first 4");
  pd_data_destroy(&s);
  PD_TEST_OK(pd_dataset_read_idx(ig, lp, 0, &s));
  check_idx(s, IN, "gzip images, plain labels, all");
  pd_data_destroy(&s);

  /* errors */
  int err = pd_dataset_read_idx(lp, ip, 4, &s); /* swapped */
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(lp) &&
                    has("not an IDX image file") && has("0x00000801") &&
                    has("swapped?"),
                "swapped files: %d %s", err, pd_error_message());
  const char *bad = temp_path("badmagic.gz", pid);
  write_images(bad, 0x00000802, IN, IN, 1);
  err = pd_dataset_read_idx(bad, lg, 4, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(bad) && has("magic"),
                "bad magic: %d %s", err, pd_error_message());

  err = pd_dataset_read_idx(ig, lg, IN + 1, &s);
  PD_TEST_CHECK(
      err == PD_ERR_ARG && s == NULL && has("n = 6 exceeds") && has(ig),
      "n too large: %d %s", err, pd_error_message());

  const char *tp = temp_path("trunc", pid), *tg = temp_path("trunc.gz", pid);
  write_images(tp, 0x00000803, IN, 3, 0);
  write_images(tg, 0x00000803, IN, 3, 1);
  err = pd_dataset_read_idx(tp, lp, 4, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(tp) && has("truncated"),
                "truncated plain: %d %s", err, pd_error_message());
  err = pd_dataset_read_idx(tg, lg, 0, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(tg) && has("truncated"),
                "truncated gzip: %d %s", err, pd_error_message());
  /* the first 3 samples are there */
  PD_TEST_OK(pd_dataset_read_idx(tg, lg, 3, &s));
  check_idx(s, 3, "first 3 of a truncated file");
  pd_data_destroy(&s);

  /* a gzip stream cut in the middle */
  const char *cut = temp_path("cut.gz", pid);
  {
    unsigned char big[16 + 4000];
    put_be32(big, 0x00000803);
    put_be32(big + 4, 1000);
    put_be32(big + 8, 2);
    put_be32(big + 12, 2);
    for (int k = 0; k < 4000; k++) big[16 + k] = (unsigned char)(k * 7919 >> 3);
    write_bytes(cut, big, sizeof big, 1);
    FILE *f = fopen(cut, "r+b");
    long size = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (f) fclose(f);
    if (size < 40 || truncate(cut, size / 2) != 0) {
      fprintf(stderr, "FAIL: cutting %s\n", cut);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  err = pd_dataset_read_idx(cut, lg, 0, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(cut),
                "cut gzip stream: %d %s", err, pd_error_message());

  const char *l4 = temp_path("labels4", pid);
  write_labels(l4, 4, ilabels, 0);
  err = pd_dataset_read_idx(ip, l4, 2, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has("has 5 images") &&
                    has("has 4 labels"),
                "count mismatch: %d %s", err, pd_error_message());

  const char *l10 = temp_path("labels10", pid);
  const unsigned char badlab[IN] = {1, 2, 10, 3, 4};
  write_labels(l10, IN, badlab, 0);
  err = pd_dataset_read_idx(ip, l10, 0, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has("label 10 of sample 2"),
                "label 10: %d %s", err, pd_error_message());

  const char *none = temp_path("none.gz", pid);
  err = pd_dataset_read_idx(none, lg, 1, &s);
  PD_TEST_CHECK(
      err == PD_ERR_IO && s == NULL && has(none) && has("cannot open"),
      "missing file: %d %s", err, pd_error_message());
}

/* ---- the real Fashion-MNIST -----------------------------------------------
 */

static const char *fm_images =
    PD_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz";
static const char *fm_labels =
    PD_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz";

static int fashion_mnist_present(void) {
  return access(fm_images, R_OK) == 0 && access(fm_labels, R_OK) == 0;
}

static void test_fashion_mnist(int rank) {
  if (!fashion_mnist_present()) {
    if (rank == 0)
      printf("note: %s absent, Fashion-MNIST checks skipped\n",
             PD_FASHION_MNIST_DIR);
    return;
  }
  pd_data *s = NULL;
  PD_TEST_OK(pd_dataset_read_idx(fm_images, fm_labels, 45, &s));
  PD_TEST_CHECK(s->n == 45 && s->d == 784, "Fashion-MNIST: %lld x %d",
                (long long)s->n, s->d);
  int out = 0, notclass = 0, varies = 0;
  double bytesum = 0;
  for (int64_t k = 0; k < s->n * s->d; k++) {
    out += !(s->x[k] >= 0 && s->x[k] <= 1);
    bytesum += round(s->x[k] * 255);
  }
  for (int64_t i = 0; i < s->n; i++) {
    double c = round(s->y[i] * 9);
    notclass += !(c >= 0 && c <= 9 && s->y[i] == c / 9.0);
    varies += s->y[i] != s->y[0];
  }
  PD_TEST_CHECK(out == 0, "Fashion-MNIST: %d pixels outside [0, 1]", out);
  PD_TEST_CHECK(notclass == 0, "Fashion-MNIST: %d labels not k/9", notclass);
  PD_TEST_CHECK(varies > 0, "Fashion-MNIST: all labels equal");
  /* known content of the first 45 training samples */
  const int first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  int wrong = 0;
  for (int i = 0; i < 10; i++) wrong += s->y[i] != first[i] / 9.0;
  PD_TEST_CHECK(wrong == 0, "Fashion-MNIST: %d of the first 10 labels differ",
                wrong);
  PD_TEST_CHECK(bytesum == 2639790.0,
                "Fashion-MNIST: pixel byte sum %.0f, expected 2639790",
                bytesum);
  pd_data_destroy(&s);
}

/* ---- the collective loader ------------------------------------------------
 */

static void test_load(int rank, int size, long pid0) {
  pd_config *cfg = new_config();
  pd_data *s = NULL, *ref = NULL;

  /* built-in: identical on every rank and to the local generator */
  snprintf(cfg->builtin, sizeof cfg->builtin, "sines");
  cfg->n = 100;
  cfg->d = 3;
  cfg->data_seed = 5;
  PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
  PD_TEST_OK(pd_dataset_builtin("sines", 100, 3, 5, &ref));
  PD_TEST_CHECK(same_bits(s, ref), "load sines differs from the generator");
  PD_TEST_CHECK(agreed(digest(s)), "load sines: ranks differ");
  pd_data_destroy(&s);
  pd_data_destroy(&ref);

  snprintf(cfg->builtin, sizeof cfg->builtin, "paper1d");
  PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
  PD_TEST_CHECK(s->n == 4 && s->x[3] == 0.5 && s->y[0] == 0.25,
                "load paper1d: n %lld", (long long)s->n);
  PD_TEST_CHECK(agreed(digest(s)), "load paper1d: ranks differ");
  pd_data_destroy(&s);

  /* HDF5: rank 0 writes the file, every rank gets its contents */
  fill_h5_values();
  const hsize_t n12[1] = {HN};
  cfg->source = PD_DATA_HDF5;
  snprintf(cfg->data_file, sizeof cfg->data_file, "%s",
           temp_path("load.h5", pid0));
  if (rank == 0) write_h5(cfg->data_file, 2, 1, n12, H5T_NATIVE_DOUBLE, hy);
  PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
  PD_TEST_CHECK(s->n == HN && s->d == HD && memcmp(s->x, hx, sizeof hx) == 0 &&
                    memcmp(s->y, hy, sizeof hy) == 0,
                "load hdf5: wrong data on rank %d", rank);
  PD_TEST_CHECK(agreed(digest(s)), "load hdf5: ranks differ");
  pd_data_destroy(&s);

  /* HDF5 with other dataset names: [data] x_dataset and y_dataset */
  snprintf(cfg->data_file, sizeof cfg->data_file, "%s",
           temp_path("load_named.h5", pid0));
  if (rank == 0) write_h5_named(cfg->data_file, 0);
  int err = pd_dataset_load(MPI_COMM_WORLD, cfg, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(cfg->data_file) &&
                    has("dataset /x not found") && has("inputs, targets"),
                "load of a file without /x on rank %d: %d %s", rank, err,
                pd_error_message());
  snprintf(cfg->x_dataset, sizeof cfg->x_dataset, "inputs");
  snprintf(cfg->y_dataset, sizeof cfg->y_dataset, "/targets");
  PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
  PD_TEST_CHECK(s->n == HN && s->d == HD && memcmp(s->x, hx, sizeof hx) == 0 &&
                    memcmp(s->y, hy, sizeof hy) == 0,
                "load hdf5 inputs/targets: wrong data on rank %d", rank);
  PD_TEST_CHECK(agreed(digest(s)), "load hdf5 inputs/targets: ranks differ");
  pd_data_destroy(&s);
  snprintf(cfg->x_dataset, sizeof cfg->x_dataset, "x");
  snprintf(cfg->y_dataset, sizeof cfg->y_dataset, "y");

  /* IDX, gzip'd, first 4 */
  cfg->source = PD_DATA_IDX;
  snprintf(cfg->images, sizeof cfg->images, "%s",
           temp_path("load_images.gz", pid0));
  snprintf(cfg->labels, sizeof cfg->labels, "%s",
           temp_path("load_labels.gz", pid0));
  if (rank == 0) {
    write_images(cfg->images, 0x00000803, IN, IN, 1);
    write_labels(cfg->labels, IN, ilabels, 1);
  }
  cfg->n = 4;
  PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
  check_idx(s, 4, "load idx");
  PD_TEST_CHECK(agreed(digest(s)), "load idx: ranks differ");
  pd_data_destroy(&s);

  if (fashion_mnist_present()) {
    snprintf(cfg->images, sizeof cfg->images, "%s", fm_images);
    snprintf(cfg->labels, sizeof cfg->labels, "%s", fm_labels);
    cfg->n = 45;
    PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
    PD_TEST_CHECK(s->n == 45 && s->d == 784, "load Fashion-MNIST: %lld x %d",
                  (long long)s->n, s->d);
    PD_TEST_CHECK(agreed(digest(s)), "load Fashion-MNIST: ranks differ");
    pd_data_destroy(&s);
  }

  /* errors reach every rank with rank 0's code and message */
  cfg->source = PD_DATA_HDF5;
  snprintf(cfg->data_file, sizeof cfg->data_file, "%s",
           temp_path("load_missing.h5", pid0));
  err = pd_dataset_load(MPI_COMM_WORLD, cfg, &s);
  PD_TEST_CHECK(err == PD_ERR_IO && s == NULL && has(cfg->data_file) &&
                    has("cannot open"),
                "load of a missing file on rank %d: %d %s", rank, err,
                pd_error_message());
  cfg->source = PD_DATA_BUILTIN;
  snprintf(cfg->builtin, sizeof cfg->builtin, "spirals");
  err = pd_dataset_load(MPI_COMM_WORLD, cfg, &s);
  PD_TEST_CHECK(err == PD_ERR_ARG && s == NULL && has("spirals"),
                "load of an unknown built-in on rank %d: %d %s", rank, err,
                pd_error_message());
  cfg->source = 7;
  err = pd_dataset_load(MPI_COMM_WORLD, cfg, &s);
  PD_TEST_CHECK(err == PD_ERR_CONFIG && s == NULL && has("data source 7"),
                "load of an unknown source on rank %d: %d %s", rank, err,
                pd_error_message());

  /* an allocation failing on the last rank only: an error everywhere */
  if (size > 1) {
    cfg->source = PD_DATA_BUILTIN;
    snprintf(cfg->builtin, sizeof cfg->builtin, "relu_mix");
    if (rank == size - 1) pd_mem_fail_after(1);
    err = pd_dataset_load(MPI_COMM_WORLD, cfg, &s);
    pd_mem_fail_after(0);
    PD_TEST_CHECK(
        s == NULL && err == (rank == size - 1 ? PD_ERR_ALLOC : PD_ERR_PEER),
        "allocation failing on rank %d: %d on rank %d %s", size - 1, err, rank,
        pd_error_message());
    /* and the next load works */
    PD_TEST_OK(pd_dataset_load(MPI_COMM_WORLD, cfg, &s));
    PD_TEST_CHECK(agreed(digest(s)), "load relu_mix: ranks differ");
    pd_data_destroy(&s);
  }
  pd_free(&cfg);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long pid = (long)getpid();
  long pid0 = pid; /* names of the files rank 0 writes for the loader */
  MPI_Bcast(&pid0, 1, MPI_LONG, 0, MPI_COMM_WORLD);

  test_builtin();
  test_hdf5(pid);
  test_hdf5_names(pid);
  test_idx(pid);
  test_fashion_mnist(rank);
  test_load(rank, size, pid0);

  MPI_Barrier(MPI_COMM_WORLD); /* rank 0's files are no longer read */
  remove_temp_files();
  return pd_test_end("test_dataset");
}
