/* Files on disk, handled so that nothing a user owns is lost: what kind of
 * file a path names, whether two paths are one file, an advisory lock
 * beside a file a run writes, and the final placement of a file written
 * under a temporary name that never replaces a file it did not expect.
 *
 * All functions are local (one process); the callers decide on rank 0 and
 * share the verdict. */
#ifndef PHASEDIAG_FILES_H
#define PHASEDIAG_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a path names (stat, following symbolic links). */
typedef struct {
  int exists; /* 0: nothing there (the other fields are 0) */
  dev_t dev;
  ino_t ino;
  mode_t mode;
} pd_file_id;

/* The identity of path; exists = 0 when there is nothing.  PD_ERR_IO when
 * it cannot be told (a directory on the way that cannot be searched). */
int pd_file_id_of(const char *path, pd_file_id *id);

/* Both exist and are the same file (device and inode). */
int pd_file_same(const pd_file_id *a, const pd_file_id *b);

/* "regular file", "directory", "FIFO", "character device", ... */
const char *pd_file_kind(mode_t mode);

/* Refuse (PD_ERR_CONFIG) a path that exists but is not a regular file:
 * reading a FIFO would wait forever, a directory or a device is never what
 * was meant.  `what` names the file in the message ("job file").  A missing
 * file passes: the caller's open says so. */
int pd_file_require_regular(const char *path, const char *what);

/* The directory part of a file path into dir ("." for a bare name, "/"
 * for a file in /). */
void pd_path_dir(const char *path, char *dir, size_t size);

/* The absolute name of path (its directory resolved, links included, the
 * last component kept), for comparing names of files that may not exist
 * yet; a directory that does not exist leaves path as given. */
void pd_file_canonical(const char *path, char *out, size_t size);

/* 1 when an HDF5 writer holds the file open (HDF5's file lock, an
 * exclusive flock, is held by another process), else 0. */
int pd_file_locked_by_writer(const char *path);

/* An advisory lock beside a file a run writes: PATH.lock, created
 * exclusively, holding the owner's pid, host, job and config hash.  A lock
 * whose owner is gone (same host, no such process) is taken over with a
 * warning; a live owner's is refused (PD_ERR_CONFIG, naming the owner). */
typedef struct {
  char path[4200]; /* the lock file; "" when not held */
} pd_file_lock;

int pd_file_lock_take(const char *target, const char *job, uint64_t hash,
                      pd_file_lock *lock);

/* Remove the lock if held (safe to call twice). */
void pd_file_lock_release(pd_file_lock *lock);

/* Move tmp to path.  expected: what was at path when the run started
 * (exists = 0: nothing).  Nothing expected: path must still be free and is
 * never replaced (renameat2 RENAME_NOREPLACE, else link + unlink); a file
 * expected: path must still be that file.  Otherwise PD_ERR_IO, tmp kept,
 * the message says where the result is. */
int pd_file_place(const char *tmp, const char *path,
                  const pd_file_id *expected);

/* The longest file name (one component) the directory of path takes. */
long pd_file_name_max(const char *path);

#endif
