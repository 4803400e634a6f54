#include "phasediag/scan/runfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasediag/base/error.h"

/* Open MPI's shared-file-pointer component names a helper file after the
 * file it opens, adding "_cid-C-R.sm" (about 20 characters): a longer name
 * than NAME_MAX leaves it aborting ("buffer overflow detected") or hanging
 * when the result is written.  The temporary name of the result plus this
 * margin must fit a file name. */
#define PD_MPIIO_NAME_MARGIN 24

static const char *pd_rf_base(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static int pd_rf_dir_writable(const char *path, const char *what) {
  char dir[4200];
  pd_path_dir(path, dir, sizeof dir);
  PD_CHECK(access(dir, W_OK | X_OK) == 0, PD_ERR_IO,
           "cannot write the %s %s: directory %s: %s", what, path, dir,
           strerror(errno));
  return PD_OK;
}

/* The longest name the run gives a file beside path (path + suffix) must
 * fit the directory's file names. */
static int pd_rf_name_fits(const char *path, const char *what,
                           const char *suffix, long extra) {
  const long n = (long)(strlen(pd_rf_base(path)) + strlen(suffix)) + extra,
             max = pd_file_name_max(path);
  char adds[64] = "";
  if (extra)
    snprintf(adds, sizeof adds, " and the %ld characters MPI-IO adds", extra);
  PD_CHECK(n <= max, PD_ERR_CONFIG,
           "the %s name %s is too long (%zu characters): with the suffix "
           "%s%s the run needs file names of %ld characters, and at most %ld "
           "fit there; choose a shorter name",
           what, path, strlen(pd_rf_base(path)), suffix, adds, n, max);
  return PD_OK;
}

/* One file the run writes, against the inputs of the job. */
static int pd_rf_not_input(const pd_runfiles_spec *s, const char *path,
                           const char *what, const pd_file_id *id) {
  char canon[4200], other[4200];
  pd_file_canonical(path, canon, sizeof canon);
  for (int i = -1; i < s->ninputs; i++) {
    const char *in = i < 0 ? s->job : s->inputs[i];
    const char *in_what = i < 0           ? "job file"
                          : s->input_what ? s->input_what[i]
                                          : "slice file";
    if (!in || !in[0]) continue;
    pd_file_id in_id;
    PD_CALL(pd_file_id_of(in, &in_id));
    pd_file_canonical(in, other, sizeof other);
    PD_CHECK(!pd_file_same(id, &in_id) && strcmp(canon, other) != 0,
             PD_ERR_CONFIG,
             "the %s %s is the %s %s: an input of the job is never "
             "replaced; choose another %s name",
             what, path, in_what, in, what);
  }
  return PD_OK;
}

/* A path the run writes may only be a regular file where it exists. */
static int pd_rf_writable_kind(const char *path, const char *what,
                               const pd_file_id *id) {
  if (!id->exists || S_ISREG(id->mode)) return PD_OK;
  if (S_ISDIR(id->mode))
    return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                          "the %s %s is a directory; give a file name, e.g. "
                          "%s/result.h5",
                          what, path, path);
  return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                        "the %s %s is a %s; phasediag writes only regular "
                        "files and never replaces anything else (not even "
                        "with --overwrite)",
                        what, path, pd_file_kind(id->mode));
}

static int pd_rf_check_output(const pd_runfiles_spec *s, pd_file_id *id) {
  const char *o = s->output;
  PD_CHECK(o[0] != '\0', PD_ERR_CONFIG,
           "the output file name is empty; set [output] file or pass "
           "--output FILE");
  PD_CHECK(o[strlen(o) - 1] != '/', PD_ERR_CONFIG,
           "the output %s ends in '/' (a directory); give a file name, e.g. "
           "%sresult.h5",
           o, o);
  PD_CALL(pd_file_id_of(o, id));
  PD_CALL(pd_rf_writable_kind(o, "output file", id));
  PD_CALL(pd_rf_not_input(s, o, "output file", id));
  PD_CHECK(!id->exists || s->overwrite, PD_ERR_CONFIG,
           "output file %s exists; set [output] overwrite = true or pass "
           "--overwrite to replace it",
           o);
  PD_CALL(pd_rf_dir_writable(o, "output file"));
  PD_CALL(pd_rf_name_fits(o, "output file", ".tmp", PD_MPIIO_NAME_MARGIN));
  return pd_rf_name_fits(o, "output file", ".lock", 0);
}

static int pd_rf_check_checkpoint(const pd_runfiles_spec *s,
                                  const pd_file_id *out_id) {
  const char *c = s->checkpoint;
  PD_CHECK(c[0] != '\0', PD_ERR_CONFIG, "the checkpoint file name is empty");
  pd_file_id id;
  PD_CALL(pd_file_id_of(c, &id));
  PD_CALL(pd_rf_writable_kind(c, "checkpoint", &id));
  if (s->output) {
    char a[4200], b[4200];
    pd_file_canonical(c, a, sizeof a);
    pd_file_canonical(s->output, b, sizeof b);
    PD_CHECK(strcmp(a, b) != 0 && !pd_file_same(&id, out_id), PD_ERR_CONFIG,
             "the checkpoint %s is the output file %s: the checkpoint is "
             "removed once the result is written; set [run] checkpoint to "
             "another name (default: OUTPUT.ckpt)",
             c, s->output);
  }
  PD_CALL(pd_rf_not_input(s, c, "checkpoint", &id));
  PD_CALL(pd_rf_dir_writable(c, "checkpoint"));
  char longest[64];
  snprintf(longest, sizeof longest, ".task-%lld.tmp",
           (long long)(s->ntasks > 0 ? s->ntasks - 1 : 0));
  PD_CALL(pd_rf_name_fits(c, "checkpoint", longest, 0));
  return pd_rf_name_fits(c, "checkpoint", ".reserve", 0);
}

/* Collective: create and remove a file whose name is as long as the
 * result's temporary name, in its directory, the way the result is
 * written (HDF5 over MPI-IO). */
static int pd_rf_probe(MPI_Comm comm, const char *output) {
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  char dir[4200], probe[4400];
  pd_path_dir(output, dir, sizeof dir);
  long pid = (long)getpid();
  PD_CALL_MPI(MPI_Bcast(&pid, 1, MPI_LONG, 0, comm));
  size_t len = strlen(pd_rf_base(output)) + 4; /* OUTPUT.tmp */
  int n = snprintf(probe, sizeof probe, "%s/.pdprobe-%ld-", dir, pid);
  while ((size_t)n < sizeof probe - 1 &&
         strlen(pd_rf_base(probe)) < len) /* pad to the same length */
    probe[n++] = 'x', probe[n] = '\0';
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  hid_t f = H5Fcreate(probe, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  int ok = f >= 0 && H5Fclose(f) >= 0;
  PD_CALL_MPI(MPI_Barrier(comm));
  if (rank == 0) unlink(probe);
  PD_CHECK(ok, PD_ERR_CONFIG,
           "cannot write the output file %s: a test file with a name as long "
           "as its temporary name (%zu characters) could not be created in "
           "%s through HDF5 and MPI-IO; choose a shorter name or another "
           "directory",
           output, len, dir);
  return PD_OK;
}

static int pd_rf_check(MPI_Comm comm, const pd_runfiles_spec *s,
                       pd_file_id *out_id) {
  int rank, err = PD_OK;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  *out_id = (pd_file_id){0};
  if (rank == 0) {
    if (s->output) err = pd_rf_check_output(s, out_id);
    if (!err && s->checkpoint) err = pd_rf_check_checkpoint(s, out_id);
  }
  PD_CALL(pd_error_collective(comm, err, __FILE__, __LINE__));
  if (s->output) {
    err = pd_rf_probe(comm, s->output);
    PD_CALL(pd_error_collective(comm, err, __FILE__, __LINE__));
  }
  return PD_OK;
}

int pd_runfiles_check(MPI_Comm comm, const pd_runfiles_spec *spec) {
  pd_file_id id;
  return pd_rf_check(comm, spec, &id);
}

int pd_runfiles_open(MPI_Comm comm, const pd_runfiles_spec *spec,
                     pd_runfiles *rf) {
  *rf = (pd_runfiles){0};
  PD_CALL(pd_rf_check(comm, spec, &rf->output_at_start));
  int rank, err = PD_OK;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0 && spec->output)
    err = pd_file_lock_take(spec->output, spec->job, spec->hash,
                            &rf->output_lock);
  if (!err && rank == 0 && spec->checkpoint)
    err = pd_file_lock_take(spec->checkpoint, spec->job, spec->hash,
                            &rf->checkpoint_lock);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err) pd_runfiles_close(rf);
  return err;
}

int pd_runfiles_reserve(MPI_Comm comm, const char *checkpoint, double bytes,
                        pd_runfiles *rf) {
  int rank, err = PD_OK;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    snprintf(rf->reserve, sizeof rf->reserve, "%s.reserve", checkpoint);
    int fd = open(rf->reserve, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)bytes);
    if (fd >= 0) close(fd);
    if (rc != 0) {
      unlink(rf->reserve);
      rf->reserve[0] = '\0';
      err = pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                           "cannot hold %.3g MiB of disk space for the final "
                           "checkpoint in %s.reserve: %s",
                           bytes / 1048576.0, checkpoint, strerror(rc));
    }
  }
  return pd_error_collective(comm, err, __FILE__, __LINE__);
}

void pd_runfiles_unreserve(pd_runfiles *rf) {
  if (rf->reserve[0]) unlink(rf->reserve);
  rf->reserve[0] = '\0';
}

void pd_runfiles_close(pd_runfiles *rf) {
  pd_runfiles_unreserve(rf);
  pd_file_lock_release(&rf->output_lock);
  pd_file_lock_release(&rf->checkpoint_lock);
}
