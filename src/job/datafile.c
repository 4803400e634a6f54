/* Data files: HDF5 files with an input and a target dataset (/x and /y
 * unless named), MNIST-format IDX image and label files (gzip or plain),
 * read on one rank with every defect named. */
#include "phasediag/job/datafile.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "phasediag/base/error.h"
#include "phasediag/base/files.h"
#include "phasediag/base/mem.h"

/* ---- HDF5 -----------------------------------------------------------------
 */

/* Longest dataset name (a path inside the file) */
#define PD_H5_NAME_MAX 1024
/* Names listed when the dataset asked for is missing */
#define PD_H5_LIST_SETS 10
#define PD_H5_LIST_GROUPS 5
#define PD_H5_LIST_CHARS 60

/* The identifiers one read opens; the caller closes whatever is valid. */
typedef struct {
  hid_t file;
  hid_t set[2];
  hid_t space[2];
  hid_t type[2];
  /* the datasets' absolute names: "/x", "/inputs", "/train/x" */
  char name[2][PD_H5_NAME_MAX + 2];
} pd_h5_ids;

/* "2-D 3 x 4", "1-D 12", "a scalar" */
static void pd_h5_shape(int ndims, const hsize_t *dims, char *buf, size_t len) {
  if (ndims <= 0) {
    snprintf(buf, len, "a scalar");
    return;
  }
  int w = snprintf(buf, len, "%d-D ", ndims);
  for (int k = 0; k < ndims && w > 0 && (size_t)w < len; k++)
    w += snprintf(buf + w, len - (size_t)w, k ? " x %llu" : "%llu",
                  (unsigned long long)dims[k]);
}

/* What the file's root holds, for the message about a missing dataset:
 * the first datasets and groups by name, and how many more there are. */
typedef struct {
  char sets[PD_H5_LIST_SETS * (PD_H5_LIST_CHARS + 8)];
  char groups[PD_H5_LIST_GROUPS * (PD_H5_LIST_CHARS + 8)];
  int nsets, ngroups, more_sets, more_groups;
} pd_h5_root;

static void pd_h5_list_add(char *list, size_t size, int *n, const char *name) {
  size_t used = strlen(list);
  const int cut = strlen(name) > PD_H5_LIST_CHARS;
  snprintf(list + used, size - used, "%s%.*s%s", *n ? ", " : "",
           PD_H5_LIST_CHARS, name, cut ? "..." : "");
  (*n)++;
}

static herr_t pd_h5_root_entry(hid_t group, const char *name,
                               const H5L_info_t *info, void *ctx) {
  (void)info;
  pd_h5_root *r = ctx;
  /* a dangling soft link opens as nothing: it is not listed */
  hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) return 0;
  H5I_type_t type = H5Iget_type(obj);
  H5Oclose(obj);
  if (type == H5I_DATASET) {
    if (r->nsets < PD_H5_LIST_SETS)
      pd_h5_list_add(r->sets, sizeof r->sets, &r->nsets, name);
    else
      r->more_sets++;
  } else if (type == H5I_GROUP) {
    if (r->ngroups < PD_H5_LIST_GROUPS)
      pd_h5_list_add(r->groups, sizeof r->groups, &r->ngroups, name);
    else
      r->more_groups++;
  }
  return 0;
}

/* "the datasets at the file's root: a, b and 3 more; group there: g" */
static void pd_h5_describe_root(hid_t file, char *buf, size_t size) {
  pd_h5_root r = {.nsets = 0};
  hsize_t at = 0;
  if (H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &at, pd_h5_root_entry, &r) <
      0) {
    snprintf(buf, size, "the file's root cannot be listed");
    return;
  }
  char more[64] = "", gmore[64] = "", groups[sizeof r.groups + 128] = "";
  if (r.more_sets) snprintf(more, sizeof more, " and %d more", r.more_sets);
  if (r.more_groups)
    snprintf(gmore, sizeof gmore, " and %d more", r.more_groups);
  if (r.ngroups)
    snprintf(groups, sizeof groups, "; group%s there: %s%s",
             r.ngroups + r.more_groups > 1 ? "s" : "", r.groups, gmore);
  if (r.nsets)
    snprintf(buf, size, "the dataset%s at the file's root: %s%s%s",
             r.nsets + r.more_sets > 1 ? "s" : "", r.sets, more, groups);
  else
    snprintf(buf, size, "the file has no dataset at its root%s", groups);
}

/* Open dataset k (0 for the inputs, 1 for the targets) by its name and
 * read its shape. */
static int pd_h5_open_set(const char *path, pd_h5_ids *h, int k,
                          const char *given, int *ndims, hsize_t *dims) {
  static const char *const what[2] = {"input", "target"};
  static const char *const key[2] = {"x_dataset", "y_dataset"};
  PD_CHECK(given != NULL && given[0] != '\0', PD_ERR_ARG,
           "%s: no name given for the %s dataset", path, what[k]);
  PD_CHECK(strlen(given) < PD_H5_NAME_MAX, PD_ERR_ARG,
           "%s: the name of the %s dataset is longer than %d characters", path,
           what[k], PD_H5_NAME_MAX - 1);
  snprintf(h->name[k], sizeof h->name[k], "%s%s", given[0] == '/' ? "" : "/",
           given);
  const char *name = h->name[k];
  /* a missing group on the way makes H5Lexists fail: not found either */
  htri_t exists = H5Lexists(h->file, name, H5P_DEFAULT);
  if (exists <= 0) {
    char root[2048];
    pd_h5_describe_root(h->file, root, sizeof root);
    PD_CHECK(0, PD_ERR_IO,
             "%s: dataset %s not found (the %s dataset: [data] %s names "
             "another); %s",
             path, name, what[k], key[k], root);
  }
  h->set[k] = H5Dopen2(h->file, name, H5P_DEFAULT);
  PD_CHECK(h->set[k] >= 0, PD_ERR_IO,
           "%s: %s cannot be opened as a dataset (is it a group?)", path, name);
  h->type[k] = H5Dget_type(h->set[k]);
  PD_CHECK(h->type[k] >= 0, PD_ERR_IO, "%s: dataset %s: cannot read its type",
           path, name);
  H5T_class_t cls = H5Tget_class(h->type[k]);
  PD_CHECK(cls == H5T_INTEGER || cls == H5T_FLOAT, PD_ERR_IO,
           "%s: dataset %s: expected numbers (integer or floating point), "
           "found another type (class %d)",
           path, name, (int)cls);
  h->space[k] = H5Dget_space(h->set[k]);
  PD_CHECK(h->space[k] >= 0, PD_ERR_IO,
           "%s: dataset %s: cannot read its dataspace", path, name);
  H5S_class_t scls = H5Sget_simple_extent_type(h->space[k]);
  PD_CHECK(scls != H5S_NULL, PD_ERR_IO,
           "%s: dataset %s: has an empty (null) dataspace", path, name);
  *ndims = H5Sget_simple_extent_ndims(h->space[k]);
  PD_CHECK(*ndims >= 0 && *ndims <= H5S_MAX_RANK, PD_ERR_IO,
           "%s: dataset %s: cannot read its rank", path, name);
  if (*ndims > 0)
    PD_CHECK(H5Sget_simple_extent_dims(h->space[k], dims, NULL) == *ndims,
             PD_ERR_IO, "%s: dataset %s: cannot read its dimensions", path,
             name);
  return PD_OK;
}

/* first non-finite entry of v[0..count) or count */
static size_t pd_first_nonfinite(const double *v, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (!isfinite(v[i])) return i;
  return count;
}

static int pd_h5_read(const char *path, const char *xname, const char *yname,
                      pd_h5_ids *h, pd_data **data) {
  PD_CALL(pd_file_require_regular(path, "data file"));
  FILE *probe = fopen(path, "rb");
  PD_CHECK(probe != NULL, PD_ERR_IO, "%s: cannot open: %s", path,
           strerror(errno));
  fclose(probe);
  h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  /* HDF5 locks a file its writer holds open (an exclusive flock) */
  PD_CHECK(h->file >= 0 || !pd_file_locked_by_writer(path), PD_ERR_IO,
           "%s: locked by another process that has it open for writing "
           "(HDF5 file locking); wait until that program closes it, or, if "
           "it only reads or is gone, run with HDF5_USE_FILE_LOCKING=FALSE",
           path);
  PD_CHECK(h->file >= 0, PD_ERR_IO,
           "%s: cannot be opened as HDF5 (not an HDF5 file, or damaged)", path);

  char shape[256];
  int xnd = 0, ynd = 0;
  hsize_t xdims[H5S_MAX_RANK], ydims[H5S_MAX_RANK];
  PD_CALL(pd_h5_open_set(path, h, 0, xname, &xnd, xdims));
  const char *xs = h->name[0];
  pd_h5_shape(xnd, xdims, shape, sizeof shape);
  PD_CHECK(xnd == 1 || xnd == 2, PD_ERR_IO,
           "%s: dataset %s: expected 2-D n x d (or 1-D of length n for d = "
           "1), found %s",
           path, xs, shape);
  const hsize_t n = xdims[0], d = xnd == 2 ? xdims[1] : 1;
  PD_CHECK(n >= 1 && d >= 1, PD_ERR_IO, "%s: dataset %s is empty (%s)", path,
           xs, shape);
  PD_CHECK(n <= INT64_MAX && d <= INT_MAX, PD_ERR_IO,
           "%s: dataset %s: %s is too large", path, xs, shape);

  PD_CALL(pd_h5_open_set(path, h, 1, yname, &ynd, ydims));
  const char *ys = h->name[1];
  pd_h5_shape(ynd, ydims, shape, sizeof shape);
  PD_CHECK(ynd == 1 && ydims[0] == n, PD_ERR_IO,
           "%s: dataset %s: expected 1-D of length %llu (the rows of %s), "
           "found %s",
           path, ys, (unsigned long long)n, xs, shape);

  pd_data *s = NULL;
  PD_CALL(pd_data_create((int64_t)n, (int)d, &s));
  *data = s; /* the caller destroys it on error */
  PD_CHECK(H5Dread(h->set[0], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   s->x) >= 0,
           PD_ERR_IO, "%s: dataset %s: reading %llu x %llu values failed", path,
           xs, (unsigned long long)n, (unsigned long long)d);
  PD_CHECK(H5Dread(h->set[1], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   s->y) >= 0,
           PD_ERR_IO, "%s: dataset %s: reading %llu values failed", path, ys,
           (unsigned long long)n);
  const size_t nx = (size_t)n * (size_t)d;
  size_t bad = pd_first_nonfinite(s->x, nx);
  PD_CHECK(bad == nx, PD_ERR_NUMERIC,
           "%s: dataset %s: non-finite value %g at row %zu, column %zu", path,
           xs, bad < nx ? s->x[bad] : 0.0, bad / (size_t)d, bad % (size_t)d);
  bad = pd_first_nonfinite(s->y, (size_t)n);
  PD_CHECK(bad == (size_t)n, PD_ERR_NUMERIC,
           "%s: dataset %s: non-finite value %g at index %zu", path, ys,
           bad < (size_t)n ? s->y[bad] : 0.0, bad);
  return PD_OK;
}

int pd_dataset_read_hdf5(const char *path, pd_data **data) {
  PD_CALL(pd_dataset_read_hdf5_sets(path, PD_DATAFILE_X, PD_DATAFILE_Y, data));
  return PD_OK;
}

int pd_dataset_read_hdf5_sets(const char *path, const char *xname,
                              const char *yname, pd_data **data) {
  PD_CHECK(data != NULL, PD_ERR_ARG, "pd_dataset_read_hdf5_sets: data is NULL");
  *data = NULL;
  PD_CHECK(path != NULL && path[0] != '\0', PD_ERR_ARG,
           "HDF5 data set: no file name given");
  pd_h5_ids h = {.file = H5I_INVALID_HID,
                 .set = {H5I_INVALID_HID, H5I_INVALID_HID},
                 .space = {H5I_INVALID_HID, H5I_INVALID_HID},
                 .type = {H5I_INVALID_HID, H5I_INVALID_HID}};
  /* silence HDF5's own error stack: users see our message only */
  H5E_auto2_t old_func = NULL;
  void *old_data = NULL;
  const int saved = H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data) >= 0;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  pd_data *s = NULL;
  int err = pd_h5_read(path, xname, yname, &h, &s);
  for (int k = 0; k < 2; k++) {
    if (h.type[k] >= 0) H5Tclose(h.type[k]);
    if (h.space[k] >= 0) H5Sclose(h.space[k]);
    if (h.set[k] >= 0) H5Dclose(h.set[k]);
  }
  if (h.file >= 0) H5Fclose(h.file);
  if (saved) H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    return pd_error_trace(err, __FILE__, __LINE__, __func__,
                          "pd_h5_read(path, xname, yname, &h, &s)");
  }
  *data = s;
  return PD_OK;
}

/* ---- IDX ------------------------------------------------------------------
 */

#define PD_IDX_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions */
#define PD_IDX_LABELS 0x00000801u /* unsigned bytes, 1 dimension */

typedef struct {
  gzFile images, labels;
  unsigned char *buf;
} pd_idx_files;

/* Read exactly len bytes (what names them in messages). */
static int pd_gz_read(gzFile f, const char *path, void *buf, size_t len,
                      const char *what) {
  unsigned char *p = buf;
  size_t got = 0;
  while (got < len) {
    size_t want = len - got;
    if (want > (1u << 30)) want = 1u << 30;
    int r = gzread(f, p + got, (unsigned)want);
    if (r < 0) {
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      PD_CHECK(0, PD_ERR_IO, "%s: reading %s failed after %zu of %zu bytes: %s",
               path, what, got, len, zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  PD_CHECK(got == len, PD_ERR_IO,
           "%s: truncated: %s needs %zu bytes, the file ends after %zu", path,
           what, len, got);
  return PD_OK;
}

static int pd_gz_open(const char *path, gzFile *f) {
  PD_CALL(pd_file_require_regular(path, "data file"));
  errno = 0;
  *f = gzopen(path, "rb");
  PD_CHECK(*f != NULL, PD_ERR_IO, "%s: cannot open: %s", path,
           errno ? strerror(errno) : "out of memory");
  gzbuffer(*f, 1u << 17);
  return PD_OK;
}

static uint32_t pd_be32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         (uint32_t)b[3];
}

static int pd_idx_read(const char *ipath, const char *lpath, int64_t n,
                       pd_idx_files *f, pd_data **data) {
  unsigned char hi[16], hl[8];
  PD_CALL(pd_gz_open(ipath, &f->images));
  /* the magic first: a wrong file should not read as a short one */
  PD_CALL(pd_gz_read(f->images, ipath, hi, 4, "the IDX magic number"));
  uint32_t magic = pd_be32(hi);
  PD_CHECK(magic == PD_IDX_IMAGES, PD_ERR_IO,
           "%s: not an IDX image file: magic 0x%08x, expected 0x%08x "
           "(unsigned bytes, 3-D)%s",
           ipath, (unsigned)magic, PD_IDX_IMAGES,
           magic == PD_IDX_LABELS ? "; it is a label file: images and labels "
                                    "swapped?"
                                  : "");
  PD_CALL(pd_gz_read(f->images, ipath, hi + 4, 12, "the IDX image header"));
  const uint32_t count = pd_be32(hi + 4), rows = pd_be32(hi + 8),
                 cols = pd_be32(hi + 12);
  PD_CHECK(count >= 1 && rows >= 1 && cols >= 1, PD_ERR_IO,
           "%s: empty IDX image file (%u images of %u x %u)", ipath,
           (unsigned)count, (unsigned)rows, (unsigned)cols);
  PD_CHECK((uint64_t)rows * cols <= INT_MAX, PD_ERR_IO,
           "%s: images of %u x %u pixels are too large", ipath, (unsigned)rows,
           (unsigned)cols);

  PD_CALL(pd_gz_open(lpath, &f->labels));
  PD_CALL(pd_gz_read(f->labels, lpath, hl, 4, "the IDX magic number"));
  magic = pd_be32(hl);
  PD_CHECK(magic == PD_IDX_LABELS, PD_ERR_IO,
           "%s: not an IDX label file: magic 0x%08x, expected 0x%08x "
           "(unsigned bytes, 1-D)%s",
           lpath, (unsigned)magic, PD_IDX_LABELS,
           magic == PD_IDX_IMAGES ? "; it is an image file: images and labels "
                                    "swapped?"
                                  : "");
  PD_CALL(pd_gz_read(f->labels, lpath, hl + 4, 4, "the IDX label header"));
  const uint32_t nlabels = pd_be32(hl + 4);
  PD_CHECK(nlabels == count, PD_ERR_IO, "%s has %u images but %s has %u labels",
           ipath, (unsigned)count, lpath, (unsigned)nlabels);
  PD_CHECK(n >= 0, PD_ERR_ARG, "IDX data: n = %lld must be >= 0", (long long)n);
  PD_CHECK(n <= (int64_t)count, PD_ERR_ARG,
           "IDX data: n = %lld exceeds the %u samples of %s", (long long)n,
           (unsigned)count, ipath);
  if (n == 0) n = count;

  const int d = (int)(rows * cols);
  pd_data *s = NULL;
  PD_CALL(pd_data_create(n, d, &s));
  *data = s; /* the caller destroys it on error */
  const size_t npix = (size_t)n * (size_t)d;
  PD_CALL(pd_calloc(npix, 1, &f->buf));
  char what[96];
  snprintf(what, sizeof what, "the pixels of %lld images", (long long)n);
  PD_CALL(pd_gz_read(f->images, ipath, f->buf, npix, what));
  for (size_t k = 0; k < npix; k++) s->x[k] = f->buf[k] / 255.0;
  snprintf(what, sizeof what, "%lld labels", (long long)n);
  PD_CALL(pd_gz_read(f->labels, lpath, f->buf, (size_t)n, what));
  for (int64_t i = 0; i < n; i++) {
    PD_CHECK(f->buf[i] <= 9, PD_ERR_IO,
             "%s: label %u of sample %lld is not a class 0..9", lpath,
             (unsigned)f->buf[i], (long long)i);
    s->y[i] = f->buf[i] / 9.0;
  }
  return PD_OK;
}

int pd_dataset_read_idx(const char *images, const char *labels, int64_t n,
                        pd_data **data) {
  PD_CHECK(data != NULL, PD_ERR_ARG, "pd_dataset_read_idx: data is NULL");
  *data = NULL;
  PD_CHECK(images != NULL && images[0] != '\0', PD_ERR_ARG,
           "IDX data set: no image file given");
  PD_CHECK(labels != NULL && labels[0] != '\0', PD_ERR_ARG,
           "IDX data set: no label file given");
  pd_idx_files f = {NULL, NULL, NULL};
  pd_data *s = NULL;
  int err = pd_idx_read(images, labels, n, &f, &s);
  if (f.images) gzclose(f.images);
  if (f.labels) gzclose(f.labels);
  pd_free(&f.buf);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    return pd_error_trace(err, __FILE__, __LINE__, __func__,
                          "pd_idx_read(images, labels, n, &f, &s)");
  }
  *data = s;
  return PD_OK;
}
