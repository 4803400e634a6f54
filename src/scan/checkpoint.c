#include "phasediag/scan/checkpoint.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "phasediag/base/crc.h"
#include "phasediag/base/error.h"
#include "phasediag/base/files.h"
#include "phasediag/base/mem.h"
#include "phasediag/observe/record.h"
#include "phasediag/version.h"

#define PD_CKPT_FORMAT "phasediag checkpoint"
/* 2: records_crc32c; 3: observer blocks; 4: runs that end stationary, the
 * plateau stop opt-in (records of earlier versions stopped by other rules) */
#define PD_CKPT_FORMAT_VERSION 4

uint64_t pd_checkpoint_hash(const char *text) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ull;
  }
  return h;
}

void pd_checkpoint_default_path(const char *output, char *path, size_t size) {
  snprintf(path, size, "%s.ckpt", output);
}

/* ---- small HDF5 helpers (errors become one message per call) ------------ */

static int pd_ck_fail(const char *path, const char *what) {
  return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, "pd_checkpoint",
                        "checkpoint %s: HDF5: cannot %s", path, what);
}

static int pd_ck_attr_write(hid_t obj, const char *name, hid_t type,
                            const void *value) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a =
      sp < 0 ? -1 : H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return ok;
}

static int pd_ck_attr_string(hid_t obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return 0;
  H5Tset_size(t, strlen(value) + 1);
  int ok = pd_ck_attr_write(obj, name, t, value);
  H5Tclose(t);
  return ok;
}

static int pd_ck_attr_read(hid_t obj, const char *name, hid_t type,
                           void *value) {
  if (H5Aexists(obj, name) <= 0) return 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  int ok = a >= 0 && H5Aread(a, type, value) >= 0;
  if (a >= 0) H5Aclose(a);
  return ok;
}

/* A fixed-size string attribute into buf (truncated to size - 1). */
static int pd_ck_attr_read_string(hid_t obj, const char *name, char *buf,
                                  size_t size) {
  buf[0] = '\0';
  if (H5Aexists(obj, name) <= 0) return 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t ft = H5Aget_type(a);
  size_t n = ft >= 0 ? H5Tget_size(ft) : 0;
  int ok = 0;
  char *tmp = NULL;
  if (n > 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) &&
      pd_calloc(n + 1, 1, &tmp) == PD_OK) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n);
    ok = H5Aread(a, mt, tmp) >= 0;
    H5Tclose(mt);
    if (ok) snprintf(buf, size, "%s", tmp);
    pd_free(&tmp);
  }
  if (ft >= 0) H5Tclose(ft);
  H5Aclose(a);
  return ok;
}

static int pd_ck_dataset(hid_t file, const char *name, hid_t type, int rank,
                         const hsize_t *dims, const void *buf) {
  hid_t fs = H5Screate_simple(rank, dims, NULL);
  hid_t ds = fs < 0 ? -1
                    : H5Dcreate2(file, name, type, fs, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
  hsize_t count = 1;
  for (int i = 0; i < rank; i++) count *= dims[i];
  int ok = ds >= 0 && (count == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL,
                                              H5P_DEFAULT, buf) >= 0);
  if (ds >= 0) H5Dclose(ds);
  if (fs >= 0) H5Sclose(fs);
  return ok;
}

/* ---- header ------------------------------------------------------------- */

typedef struct {
  char format[64], version[64];
  int format_version;
  uint64_t hash;
  int64_t len, ntasks, ndone;
  int has_crc;  /* records_crc32c present (format 2) */
  uint32_t crc; /* records_crc32c */
} pd_ck_header;

/* The checksum of the records: CRC-32C of /tasks, then /records, as
 * little-endian 8-byte values (the same bytes on any host). */
static uint32_t pd_ck_crc(int64_t nd, int64_t len, const int64_t *tasks,
                          const double *rec) {
  if (nd <= 0) return 0;
  const uint32_t c = pd_crc32c_le64(0, tasks, (size_t)nd);
  return pd_crc32c_le64(c, rec, (size_t)nd * (size_t)len);
}

static int pd_ck_header_read(hid_t f, const char *path, pd_ck_header *h) {
  memset(h, 0, sizeof *h);
  if (!pd_ck_attr_read_string(f, "format", h->format, sizeof h->format) ||
      strcmp(h->format, PD_CKPT_FORMAT) != 0)
    return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "%s is not a phasediag checkpoint (no format "
                          "attribute '%s')",
                          path, PD_CKPT_FORMAT);
  if (!pd_ck_attr_read(f, "format_version", H5T_NATIVE_INT,
                       &h->format_version) ||
      !pd_ck_attr_read_string(f, "version", h->version, sizeof h->version) ||
      !pd_ck_attr_read(f, "config_hash", H5T_NATIVE_UINT64, &h->hash) ||
      !pd_ck_attr_read(f, "record_len", H5T_NATIVE_INT64, &h->len) ||
      !pd_ck_attr_read(f, "ntasks", H5T_NATIVE_INT64, &h->ntasks) ||
      !pd_ck_attr_read(f, "ndone", H5T_NATIVE_INT64, &h->ndone))
    return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "checkpoint %s: a header attribute is missing or "
                          "unreadable",
                          path);
  /* absent in format 1: pd_ck_header_match refuses that format first */
  h->has_crc = pd_ck_attr_read(f, "records_crc32c", H5T_NATIVE_UINT32, &h->crc);
  return PD_OK;
}

/* PD_ERR_CONFIG naming everything that differs. */
static int pd_ck_header_match(const pd_checkpoint_info *ci,
                              const pd_ck_header *h) {
  char why[1024] = "";
  size_t n = 0;
  const uint64_t hash = pd_checkpoint_hash(ci->config_text);
  if (h->format_version != PD_CKPT_FORMAT_VERSION)
    n += (size_t)snprintf(why + n, sizeof why - n,
                          "; checkpoint format %d, this binary reads %d",
                          h->format_version, PD_CKPT_FORMAT_VERSION);
  if (n < sizeof why && h->hash != hash)
    n += (size_t)snprintf(
        why + n, sizeof why - n,
        "; config hash %016" PRIx64 " in the checkpoint, %016" PRIx64
        " of %s (the job file changed since the checkpoint was written)",
        h->hash, hash, ci->job);
  if (n < sizeof why && h->len != ci->len)
    n += (size_t)snprintf(why + n, sizeof why - n,
                          "; record length %lld in the checkpoint, %lld here",
                          (long long)h->len, (long long)ci->len);
  if (n < sizeof why && h->ntasks != ci->ntasks)
    n += (size_t)snprintf(why + n, sizeof why - n,
                          "; %lld tasks in the checkpoint, %lld here",
                          (long long)h->ntasks, (long long)ci->ntasks);
  if (n < sizeof why && strcmp(h->version, PD_VERSION) != 0)
    n += (size_t)snprintf(why + n, sizeof why - n,
                          "; written by phasediag %s, this is %s", h->version,
                          PD_VERSION);
  if (n == 0) return PD_OK;
  return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                        "checkpoint %s does not belong to job %s%s; remove "
                        "the checkpoint, or pass --overwrite to discard it "
                        "and start over",
                        ci->path, ci->job, why);
}

/* Open, read and check the header; *file < 0 and *exists = 0 if absent. */
static int pd_ck_open(const pd_checkpoint_info *ci, hid_t *file, int *exists,
                      pd_ck_header *h) {
  *file = -1;
  *exists = 0;
  if (access(ci->path, F_OK) != 0) {
    if (errno == ENOENT) return PD_OK;
    return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "checkpoint %s: %s", ci->path, strerror(errno));
  }
  *exists = 1;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's */
  hid_t f = H5Fopen(ci->path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "cannot open the checkpoint %s (not an HDF5 file?)",
                          ci->path);
  int err = pd_ck_header_read(f, ci->path, h);
  if (!err) err = pd_ck_header_match(ci, h);
  if (err) {
    H5Fclose(f);
    return err;
  }
  *file = f;
  return PD_OK;
}

/* Read /tasks and /records into results (checked: shapes, task range,
 * records that say they are that task and are complete). */
static int pd_ck_load(const pd_checkpoint_info *ci, hid_t f,
                      const pd_ck_header *h, double *results) {
  const int64_t nd = h->ndone, len = ci->len;
  PD_CHECK(nd >= 0 && nd <= ci->ntasks, PD_ERR_IO,
           "checkpoint %s: ndone = %lld of %lld tasks", ci->path, (long long)nd,
           (long long)ci->ntasks);
  int64_t *tasks = NULL;
  double *rec = NULL;
  int err = pd_calloc((size_t)(nd > 0 ? nd : 1), sizeof *tasks, &tasks);
  if (!err)
    err = pd_calloc((size_t)(nd > 0 ? nd : 1) * (size_t)len, sizeof *rec, &rec);
  hid_t dt = -1, dr = -1;
  if (!err) {
    dt = H5Dopen2(f, "tasks", H5P_DEFAULT);
    dr = H5Dopen2(f, "records", H5P_DEFAULT);
    if (dt < 0 || dr < 0) err = pd_ck_fail(ci->path, "open /tasks, /records");
  }
  if (!err) {
    hsize_t d1[1] = {0}, d2[2] = {0, 0};
    hid_t s1 = H5Dget_space(dt), s2 = H5Dget_space(dr);
    int r1 = s1 >= 0 ? H5Sget_simple_extent_dims(s1, d1, NULL) : -1;
    int r2 = s2 >= 0 ? H5Sget_simple_extent_dims(s2, d2, NULL) : -1;
    if (s1 >= 0) H5Sclose(s1);
    if (s2 >= 0) H5Sclose(s2);
    if (r1 != 1 || r2 != 2 || d1[0] != (hsize_t)nd || d2[0] != (hsize_t)nd ||
        d2[1] != (hsize_t)len)
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "checkpoint %s: /tasks or /records has the wrong "
                           "shape (expected [%lld] and [%lld, %lld])",
                           ci->path, (long long)nd, (long long)nd,
                           (long long)len);
  }
  if (!err && nd > 0 &&
      (H5Dread(dt, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, tasks) <
           0 ||
       H5Dread(dr, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec) < 0))
    err = pd_ck_fail(ci->path, "read /tasks, /records");
  /* the checksum before anything is used: damaged records are refused as
   * bad input (exit status 2), and --overwrite discards them */
  if (!err && !h->has_crc)
    err = pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                         "checkpoint %s is damaged: it has no records_crc32c "
                         "attribute; remove it, or pass --overwrite to discard "
                         "it and start over",
                         ci->path);
  if (!err) {
    const uint32_t crc = pd_ck_crc(nd, len, tasks, rec);
    if (crc != h->crc)
      err = pd_error_raise(
          PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
          "checkpoint %s is damaged: the CRC-32C of its /tasks and /records "
          "is %08" PRIx32 ", the file says %08" PRIx32
          " (records_crc32c), so its records cannot be trusted; remove it, "
          "or pass --overwrite to discard it and start over",
          ci->path, crc, h->crc);
  }
  for (int64_t i = 0; !err && i < nd; i++) {
    const int64_t t = tasks[i];
    const double *r = rec + i * len;
    if (t < 0 || t >= ci->ntasks || (i > 0 && t <= tasks[i - 1]) ||
        r[PD_R_TASK] != (double)t || r[PD_R_STATUS] == -1)
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "checkpoint %s: entry %lld (task %lld) is not a "
                           "complete record of that task",
                           ci->path, (long long)i, (long long)t);
  }
  for (int64_t i = 0; !err && results && i < nd; i++)
    memcpy(results + tasks[i] * len, rec + i * len,
           sizeof(double) * (size_t)len);
  if (dt >= 0) H5Dclose(dt);
  if (dr >= 0) H5Dclose(dr);
  pd_free(&tasks);
  pd_free(&rec);
  return err;
}

int pd_checkpoint_probe(const pd_checkpoint_info *ci, int *exists,
                        int64_t *ndone) {
  hid_t f;
  pd_ck_header h;
  *ndone = 0;
  PD_CALL(pd_ck_open(ci, &f, exists, &h));
  if (!*exists) return PD_OK;
  int err = pd_ck_load(ci, f, &h, NULL); /* reads everything once: a bad
                                            file is refused before the run */
  H5Fclose(f);
  PD_CALL(err);
  *ndone = h.ndone;
  return PD_OK;
}

int pd_checkpoint_read(const pd_checkpoint_info *ci, double *results,
                       int64_t *ndone) {
  hid_t f;
  pd_ck_header h;
  int exists;
  *ndone = 0;
  PD_CALL(pd_ck_open(ci, &f, &exists, &h));
  PD_CHECK(exists, PD_ERR_IO, "checkpoint %s disappeared", ci->path);
  int err = pd_ck_load(ci, f, &h, results);
  H5Fclose(f);
  PD_CALL(err);
  *ndone = h.ndone;
  return PD_OK;
}

int pd_checkpoint_write(const pd_checkpoint_info *ci, const double *results,
                        int64_t *ndone) {
  const int64_t len = ci->len;
  int64_t nd = 0;
  for (int64_t t = 0; t < ci->ntasks; t++)
    if (results[t * len + PD_R_TASK] >= 0) nd++;
  char tmp[4200];
  PD_CHECK(strlen(ci->path) + 5 < sizeof tmp, PD_ERR_ARG,
           "checkpoint path too long: %s", ci->path);
  snprintf(tmp, sizeof tmp, "%s.tmp", ci->path);
  int64_t *tasks = NULL;
  double *rec = NULL;
  int err = pd_calloc((size_t)(nd > 0 ? nd : 1), sizeof *tasks, &tasks);
  if (!err)
    err = pd_calloc((size_t)(nd > 0 ? nd : 1) * (size_t)len, sizeof *rec, &rec);
  if (err) {
    pd_free(&tasks);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "buffers");
  }
  for (int64_t t = 0, i = 0; t < ci->ntasks; t++)
    if (results[t * len + PD_R_TASK] >= 0) {
      tasks[i] = t;
      memcpy(rec + i * len, results + t * len, sizeof(double) * (size_t)len);
      i++;
    }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                         "cannot create the checkpoint %s: %s", tmp,
                         strerror(errno));
  } else {
    const int fv = PD_CKPT_FORMAT_VERSION;
    const uint64_t hash = pd_checkpoint_hash(ci->config_text);
    const uint32_t crc = pd_ck_crc(nd, len, tasks, rec);
    char date[32] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv))
      strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    hsize_t d1[1] = {(hsize_t)nd}, d2[2] = {(hsize_t)nd, (hsize_t)len};
    hid_t st = H5Tcopy(H5T_C_S1);
    int ok = st >= 0 && H5Tset_size(st, strlen(ci->config_text) + 1) >= 0;
    ok = ok && pd_ck_attr_string(f, "format", PD_CKPT_FORMAT) &&
         pd_ck_attr_write(f, "format_version", H5T_NATIVE_INT, &fv) &&
         pd_ck_attr_string(f, "version", PD_VERSION) &&
         pd_ck_attr_string(f, "git_commit", PD_GIT_COMMIT) &&
         pd_ck_attr_write(f, "config_hash", H5T_NATIVE_UINT64, &hash) &&
         pd_ck_attr_write(f, "record_len", H5T_NATIVE_INT64, &len) &&
         pd_ck_attr_write(f, "ntasks", H5T_NATIVE_INT64, &ci->ntasks) &&
         pd_ck_attr_write(f, "ndone", H5T_NATIVE_INT64, &nd) &&
         pd_ck_attr_write(f, "records_crc32c", H5T_NATIVE_UINT32, &crc) &&
         pd_ck_attr_string(f, "created_utc", date) &&
         pd_ck_dataset(f, "config_text", st, 0, NULL, ci->config_text) &&
         pd_ck_dataset(f, "tasks", H5T_NATIVE_INT64, 1, d1, tasks) &&
         pd_ck_dataset(f, "records", H5T_NATIVE_DOUBLE, 2, d2, rec);
    if (st >= 0) H5Tclose(st);
    if (H5Fclose(f) < 0) ok = 0;
    if (!ok) err = pd_ck_fail(tmp, "write (disk full?)");
  }
  pd_free(&tasks);
  pd_free(&rec);
  if (!err && rename(tmp, ci->path) != 0)
    err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                         "cannot rename %s to %s: %s", tmp, ci->path,
                         strerror(errno));
  if (err) {
    unlink(tmp);
    return err;
  }
  if (ndone) *ndone = nd;
  return PD_OK;
}

void pd_checkpoint_task_path(const char *path, int64_t t, char *out,
                             size_t size) {
  snprintf(out, size, "%s.task-%lld", path, (long long)t);
}

int pd_checkpoint_remove_task_states(const char *path, int64_t ntasks,
                                     const unsigned char *done,
                                     int64_t *removed) {
  int64_t n = 0;
  char file[4200], tmp[4300];
  for (int64_t t = 0; t < ntasks; t++) {
    if (done && !done[t]) continue;
    pd_checkpoint_task_path(path, t, file, sizeof file);
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    unlink(tmp);
    if (unlink(file) == 0)
      n++;
    else
      PD_CHECK(errno == ENOENT, PD_ERR_IO,
               "cannot remove the task state %s: %s", file, strerror(errno));
  }
  if (removed) *removed = n;
  return PD_OK;
}

int pd_checkpoint_remove(const pd_checkpoint_info *ci) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", ci->path);
  unlink(tmp);
  PD_CHECK(unlink(ci->path) == 0 || errno == ENOENT, PD_ERR_IO,
           "cannot remove the checkpoint %s: %s", ci->path, strerror(errno));
  return PD_OK;
}

int pd_checkpoint_check_space(MPI_Comm comm, const char *path, double bytes,
                              const char *what) {
  int rank, err = PD_OK;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char dir[4096];
    pd_path_dir(path, dir, sizeof dir);
    struct statvfs sv;
    /* no answer (an exotic file system): nothing to say */
    if (statvfs(dir, &sv) == 0) {
      const double avail = (double)sv.f_bavail * (double)sv.f_frsize;
      if (bytes > avail)
        err = pd_error_raise(
            PD_ERR_IO, __FILE__, __LINE__, __func__,
            "not enough disk space for the %s %s: about %.3g MiB needed, "
            "%.3g MiB free in %s",
            what, path, bytes / 1048576.0, avail / 1048576.0, dir);
    }
  }
  PD_CALL_MPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  if (err != PD_OK && rank != 0)
    return pd_error_raise(err, __FILE__, __LINE__, __func__,
                          "rank 0 refused the %s %s", what, path);
  return err;
}
