#include "phasediag/scan/taskstate.h"

#include <stdlib.h>
#include <string.h>

#include "phasediag/base/crc.h"
#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/scan/checkpoint.h"
#include "phasediag/train/integrator.h"

#define PD_TS_MAGIC "PDTSTATE"
/* 2: the checksum; 3: the state by field tables; 4: observer blocks in the
 * record; 5: the gradient norms of the loop state */
#define PD_TS_VERSION 5
#define PD_TS_BOM INT64_C(0x0102030405060708)
enum {
  PD_TS_I_VERSION,
  PD_TS_I_BOM,
  PD_TS_I_HASH,
  PD_TS_I_TASK,
  PD_TS_I_LEN,
  PD_TS_I_N,
  PD_TS_I_D,
  PD_TS_I_M,
  PD_TS_I_K,
  PD_TS_NH
};
#define PD_TS_HEAD (8 + 8 * PD_TS_NH) /* bytes of magic and H */
#define PD_TS_NAME 16                 /* bytes of the integrator's name */

/* fwrite of count items that continues io->crc; 1 if all were written */
static int pd_ts_write(pd_task_state_io *io, const void *buf, size_t size,
                       size_t count) {
  if (fwrite(buf, size, count, io->fp) != count) return 0;
  io->crc = pd_crc32c(io->crc, buf, size * count);
  return 1;
}

/* Leader: the CRC-32C of the whole file but its last 8 bytes against the
 * checksum stored there.  NULL if they agree, else why not. */
static const char *pd_ts_verify(FILE *fp) {
  if (fseek(fp, 0, SEEK_END) != 0) return "unreadable";
  const long size = ftell(fp);
  if (size < PD_TS_HEAD + 8) return "truncated or of another size";
  if (fseek(fp, 0, SEEK_SET) != 0) return "unreadable";
  unsigned char buf[1 << 16];
  uint32_t crc = 0;
  for (long left = size - 8; left > 0;) {
    const size_t c = left < (long)sizeof buf ? (size_t)left : sizeof buf;
    if (fread(buf, 1, c, fp) != c) return "unreadable";
    crc = pd_crc32c(crc, buf, c);
    left -= (long)c;
  }
  uint64_t stored;
  if (fread(&stored, sizeof stored, 1, fp) != 1) return "unreadable";
  if (stored != (uint64_t)crc) return "checksum mismatch (damaged file)";
  return NULL;
}

static int pd_ts_put(void *ctx, int j, int64_t k0, int64_t count,
                     double *values) {
  pd_task_state_io *io = ctx;
  (void)j;
  (void)k0; /* the calls come in file order */
  PD_CHECK(io->fp && pd_ts_write(io, values, sizeof(double), (size_t)count),
           PD_ERR_IO, "task %lld: cannot write the in-flight state",
           (long long)io->t);
  return PD_OK;
}

static int pd_ts_get(void *ctx, int j, int64_t k0, int64_t count,
                     double *values) {
  pd_task_state_io *io = ctx;
  const long off = io->param_off + (long)(8 * ((int64_t)j * io->m + k0));
  PD_CHECK(
      io->fp && fseek(io->fp, off, SEEK_SET) == 0 &&
          fread(values, sizeof(double), (size_t)count, io->fp) == (size_t)count,
      PD_ERR_IO, "task %lld: cannot read the parameters of its state file",
      (long long)io->t);
  return PD_OK;
}

/* Leader: header, loop state, integrator name and state, record, through
 * the field tables.  1 if all were written. */
static int pd_ts_write_state(pd_task_state_io *io, const pd_net_config *nc,
                             const pd_train_state *st) {
  const pd_job *job = io->job;
  const pd_integrator_type *it = st->integ;
  const int64_t n = st->n, len = job->layout.len;
  int64_t H[PD_TS_NH] = {PD_TS_VERSION, PD_TS_BOM,    0, io->t, len, n, nc->d,
                         nc->m,         job->layout.K};
  memcpy(&H[PD_TS_I_HASH], &job->config_hash, sizeof(int64_t));
  char name[PD_TS_NAME] = {0};
  strncpy(name, it->name, sizeof name - 1);
  const int64_t s1 = pd_state_size(&pd_train_state_table, st, n);
  const int64_t s2 = pd_state_size(&it->state, st->integ_state, n);
  unsigned char *blob = NULL;
  if (s1 < 0 || s2 < 0 || pd_calloc((size_t)(s1 + s2 + 8), 1, &blob) != PD_OK) {
    pd_error_clear();
    return 0;
  }
  pd_state_pack(&pd_train_state_table, st, n, blob);
  pd_state_pack(&it->state, st->integ_state, n, blob + s1);
  int ok = pd_ts_write(io, PD_TS_MAGIC, 1, 8);
  ok = ok && pd_ts_write(io, H, sizeof H[0], PD_TS_NH);
  ok = ok && pd_ts_write(io, blob, 1, (size_t)s1);
  ok = ok && pd_ts_write(io, name, 1, sizeof name);
  ok = ok && pd_ts_write(io, blob + s1, 1, (size_t)s2);
  ok = ok && pd_ts_write(io, io->rec, sizeof(double), (size_t)len);
  pd_free(&blob);
  return ok;
}

/* pd_train_hooks.save_state: the state to PREFIX.task-T (collective on
 * the group; a failure is a warning: the task then starts over on
 * resume). */
int pd_task_save_state(void *ctx, pd_net *net, const pd_train_state *st) {
  pd_task_state_io *io = ctx;
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(io->group, &rank));
  char path[4200], tmp[4300];
  pd_checkpoint_task_path(io->job->state_prefix, io->t, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int err = PD_OK;
  io->fp = NULL;
  if (rank == 0) {
    io->fp = fopen(tmp, "wb");
    io->crc = 0;
    if (!io->fp || !pd_ts_write_state(io, pd_net_get_config(net), st))
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "cannot write %s", tmp);
  }
  /* every rank takes part in the parameter transfer whatever happened */
  int err2 = pd_net_put_params(net, 0, pd_ts_put, io);
  if (rank == 0) {
    const uint64_t crc = io->crc; /* of everything written: the trailer */
    if (!err && !err2 && fwrite(&crc, sizeof crc, 1, io->fp) != 1)
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "cannot write %s", tmp);
    if (io->fp && fclose(io->fp) != 0 && !err)
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "cannot write %s", tmp);
    io->fp = NULL;
    if (!err && !err2 && rename(tmp, path) != 0)
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "cannot rename %s", tmp);
    if (err || err2) remove(tmp);
  }
  if (!err) err = err2;
  err = pd_error_collective(io->group, err, __FILE__, __LINE__);
  if (err) {
    pd_log(io->group, PD_LOG_WARN,
           "task %lld: in-flight state not saved (it starts over on "
           "resume): %s",
           (long long)io->t, pd_error_message());
    pd_error_clear();
  } else if (st->final) {
    pd_log(io->group, PD_LOG_INFO,
           "task %lld stopped at step %lld: state in %s", (long long)io->t,
           (long long)st->steps, path);
  } else {
    pd_log(io->group, PD_LOG_DEBUG, "task %lld: state at step %lld in %s",
           (long long)io->t, (long long)st->steps, path);
  }
  return PD_OK;
}

/* Leader: open and check the file: NULL and io->fp open at the loop state
 * with *small its bytes up to the parameters, or why not. */
static const char *pd_ts_open(pd_task_state_io *io, const char *path,
                              const pd_net_config *nc, int64_t *small) {
  const pd_job *job = io->job;
  int64_t H[PD_TS_NH] = {0};
  char magic[8];
  const char *damage;
  if ((io->fp = fopen(path, "rb")) == NULL) return "";
  if (fread(magic, 1, 8, io->fp) != 8 ||
      fread(H, sizeof H[0], PD_TS_NH, io->fp) != PD_TS_NH ||
      memcmp(magic, PD_TS_MAGIC, 8) != 0)
    return "not a task state file";
  if (H[PD_TS_I_VERSION] != PD_TS_VERSION || H[PD_TS_I_BOM] != PD_TS_BOM)
    return "another format version or byte order";
  if ((damage = pd_ts_verify(io->fp)) != NULL) /* before the rest */
    return damage;
  if (memcmp(&H[PD_TS_I_HASH], &job->config_hash, sizeof(int64_t)) != 0)
    return "another job (config hash differs)";
  if (H[PD_TS_I_TASK] != io->t || H[PD_TS_I_LEN] != job->layout.len ||
      H[PD_TS_I_N] != job->data->n || H[PD_TS_I_D] != nc->d ||
      H[PD_TS_I_M] != nc->m || H[PD_TS_I_K] != job->layout.K)
    return "another task or record layout";
  if (fseek(io->fp, 0, SEEK_END) != 0) return "unreadable";
  const long size = ftell(io->fp);
  io->param_off = size - 8 - (long)(8 * (nc->d + 2) * nc->m);
  *small = io->param_off - PD_TS_HEAD;
  if (*small < PD_TS_NAME || fseek(io->fp, PD_TS_HEAD, SEEK_SET) != 0)
    return "truncated or of another size";
  return NULL;
}

/* Every rank: the loop and integrator states from the bytes after the
 * header (views into p), the record into rec.  NULL, or why not. */
static const char *pd_ts_parse(pd_task_state_io *io, unsigned char *p,
                               int64_t small, pd_train_state *st, void *integ,
                               double *rec) {
  const pd_job *job = io->job;
  const int64_t n = job->data->n, len = job->layout.len;
  const int64_t s1 = pd_state_unpack(&pd_train_state_table, st, n, p, small);
  if (s1 < 0 || st->nhistory < 1 || st->nhistory >= job->layout.K ||
      small - s1 < PD_TS_NAME)
    return "truncated or of another size";
  char name[PD_TS_NAME + 1] = {0};
  memcpy(name, p + s1, PD_TS_NAME);
  if (strcmp(name, st->integ->name) != 0) return "another integrator";
  const int64_t at = s1 + PD_TS_NAME;
  const int64_t s2 =
      pd_state_unpack(&st->integ->state, integ, n, p + at, small - at);
  if (s2 < 0 || small - at - s2 != 8 * len)
    return "truncated or of another size";
  memcpy(rec, p + at + s2, sizeof(double) * (size_t)len);
  st->integ_state = integ;
  st->n = n;
  return NULL;
}
/* The task's state file into st (its arrays point into *store, the
 * integrator's state is *integ), the record into rec and the parameters
 * into net; *loaded = 0 (and nothing changed) when there is no valid
 * file.  Collective on the group. */
int pd_task_load_state(pd_task_state_io *io, pd_net *net, double *rec,
                       pd_train_state *st, unsigned char **store, void **integ,
                       int *loaded) {
  const pd_job *job = io->job;
  const pd_net_config *nc = pd_net_get_config(net);
  *loaded = 0;
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(io->group, &rank));
  char path[4200];
  pd_checkpoint_task_path(job->state_prefix, io->t, path, sizeof path);
  int64_t small[2] = {-1, 0}; /* bytes after the header, parameter offset */
  io->fp = NULL;
  io->m = nc->m;
  if (rank == 0) {
    const char *why = pd_ts_open(io, path, nc, &small[0]);
    small[1] = io->param_off;
    if (why && why[0])
      pd_log(MPI_COMM_SELF, PD_LOG_WARN,
             "task %lld: ignoring the state file %s (%s); starting from step 0",
             (long long)io->t, path, why);
    if (why) {
      if (io->fp) fclose(io->fp);
      io->fp = NULL;
      small[0] = -1;
    }
  }
  PD_CALL_MPI(MPI_Bcast(small, 2, MPI_INT64_T, 0, io->group));
  if (small[0] < 0) return PD_OK;
  io->param_off = (long)small[1];
  const pd_integrator_type *it = pd_integrator_find(job->cfg->train.integrator);
  int err = pd_calloc((size_t)small[0], 1, store);
  if (!err) err = pd_calloc(it->size, 1, integ);
  if (!err && rank == 0 &&
      fread(*store, 1, (size_t)small[0], io->fp) != (size_t)small[0])
    err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                         "cannot read %s", path);
  err = pd_error_collective(io->group, err, __FILE__, __LINE__);
  if (!err) { /* MPI_BYTE: the int64 fields travel unchanged */
    int rc = MPI_Bcast(*store, (int)small[0], MPI_BYTE, 0, io->group);
    if (rc != MPI_SUCCESS)
      err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Bcast");
  }
  const char *why = NULL;
  if (!err) { /* the same bytes on every rank: the same answer */
    *st = (pd_train_state){.integ = it};
    why = pd_ts_parse(io, *store, small[0], st, *integ, rec);
    if (why)
      pd_log(io->group, PD_LOG_WARN,
             "task %lld: ignoring the state file %s (%s); starting from step 0",
             (long long)io->t, path, why);
  }
  if (!err && !why) err = pd_net_get_params(net, 0, pd_ts_get, io);
  if (io->fp) fclose(io->fp);
  io->fp = NULL;
  if (err || why) {
    pd_free(store);
    pd_free(integ);
    return err;
  }
  *loaded = 1;
  return PD_OK;
}
