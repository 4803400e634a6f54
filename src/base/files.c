/* renameat2 and flock are GNU / BSD interfaces beyond POSIX 2008 */
#undef _POSIX_C_SOURCE
#define _GNU_SOURCE
#include "phasediag/base/files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phasediag/base/error.h"
#include "phasediag/base/log.h"

int pd_file_id_of(const char *path, pd_file_id *id) {
  *id = (pd_file_id){0};
  struct stat sb;
  if (stat(path, &sb) != 0) {
    PD_CHECK(errno == ENOENT || errno == ENOTDIR, PD_ERR_IO, "%s: %s", path,
             strerror(errno));
    return PD_OK;
  }
  *id = (pd_file_id){
      .exists = 1, .dev = sb.st_dev, .ino = sb.st_ino, .mode = sb.st_mode};
  return PD_OK;
}

int pd_file_same(const pd_file_id *a, const pd_file_id *b) {
  return a->exists && b->exists && a->dev == b->dev && a->ino == b->ino;
}

const char *pd_file_kind(mode_t mode) {
  return S_ISREG(mode)    ? "regular file"
         : S_ISDIR(mode)  ? "directory"
         : S_ISFIFO(mode) ? "FIFO (named pipe)"
         : S_ISCHR(mode)  ? "character device"
         : S_ISBLK(mode)  ? "block device"
         : S_ISSOCK(mode) ? "socket"
                          : "special file";
}

int pd_file_require_regular(const char *path, const char *what) {
  pd_file_id id;
  PD_CALL(pd_file_id_of(path, &id));
  PD_CHECK(!id.exists || S_ISREG(id.mode), PD_ERR_CONFIG,
           "%s %s is a %s, not a regular file", what, path,
           pd_file_kind(id.mode));
  return PD_OK;
}

void pd_path_dir(const char *path, char *dir, size_t size) {
  snprintf(dir, size, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, size, ".");
  else if (slash == dir)
    dir[1] = '\0'; /* a file in / */
  else
    *slash = '\0';
}

void pd_file_canonical(const char *path, char *out, size_t size) {
  char dir[PATH_MAX], real[PATH_MAX];
  pd_path_dir(path, dir, sizeof dir);
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  if (realpath(dir, real) == NULL) {
    snprintf(out, size, "%s", path);
    return;
  }
  snprintf(out, size, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
}

int pd_file_locked_by_writer(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  int locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd); /* releases our shared lock if we got it */
  return locked;
}

/* ---- lock ---------------------------------------------------------------- */

/* The owner recorded in a lock file is running.  On this host: the
 * process exists, is not a zombie (a container's init may never reap it)
 * and runs the same program (a reused pid runs another).  On another host
 * nothing can be told, unless the lock is this very SLURM job's: its
 * earlier run, requeued after its node failed. */
static int pd_lock_owner_alive(long pid, const char *host, const char *job) {
  char me[256] = "";
  if (gethostname(me, sizeof me) != 0 || strcmp(me, host) != 0) {
    const char *mine = getenv("SLURM_JOB_ID");
    return !(mine && *mine && strcmp(mine, job) == 0);
  }
  if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) return 0;
  char path[64], stat[512] = "", theirs[64] = "", ours[64] = "";
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (f && fgets(stat, sizeof stat, f)) {
    const char *paren = strrchr(stat, ')'); /* "pid (comm) STATE ..." */
    if (paren && (paren[2] == 'Z' || paren[2] == 'X')) {
      fclose(f);
      return 0;
    }
  }
  if (f) fclose(f);
  snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  FILE *a = fopen(path, "r"), *b = fopen("/proc/self/comm", "r");
  int same = 1;
  if (a && b && fgets(theirs, sizeof theirs, a) && fgets(ours, sizeof ours, b))
    same = strcmp(theirs, ours) == 0;
  if (a) fclose(a);
  if (b) fclose(b);
  return same;
}

int pd_file_lock_take(const char *target, const char *job, uint64_t hash,
                      pd_file_lock *lock) {
  lock->path[0] = '\0';
  char path[sizeof lock->path];
  PD_CHECK(strlen(target) + 6 < sizeof path, PD_ERR_CONFIG, "path too long: %s",
           target);
  snprintf(path, sizeof path, "%s.lock", target);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      char host[256] = "?", when[32] = "";
      gethostname(host, sizeof host);
      time_t now = time(NULL);
      struct tm tmv;
      if (gmtime_r(&now, &tmv))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
      char text[1400];
      int n =
          snprintf(text, sizeof text,
                   "pid %ld\nhost %s\nconfig_hash %016llx\nsince %s\n"
                   "slurm_job %s\njob %.1000s\n",
                   (long)getpid(), host, (unsigned long long)hash, when,
                   getenv("SLURM_JOB_ID") ? getenv("SLURM_JOB_ID") : "-", job);
      int ok = n > 0 && write(fd, text, (size_t)n) == (ssize_t)n;
      ok = close(fd) == 0 && ok;
      if (!ok) {
        unlink(path);
        return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                              "cannot write the lock file %s: %s", path,
                              strerror(errno));
      }
      snprintf(lock->path, sizeof lock->path, "%s", path);
      return PD_OK;
    }
    PD_CHECK(errno == EEXIST, PD_ERR_IO, "cannot create the lock file %s: %s",
             path, strerror(errno));
    long pid = 0;
    char host[256] = "?", since[64] = "?", owner_job[1100] = "?", line[1200],
         slurm[64] = "-";
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = '\0';
      if (!strncmp(line, "pid ", 4)) pid = strtol(line + 4, NULL, 10);
      if (!strncmp(line, "host ", 5))
        snprintf(host, sizeof host, "%.255s", line + 5);
      if (!strncmp(line, "since ", 6))
        snprintf(since, sizeof since, "%.63s", line + 6);
      if (!strncmp(line, "slurm_job ", 10))
        snprintf(slurm, sizeof slurm, "%.63s", line + 10);
      if (!strncmp(line, "job ", 4))
        snprintf(owner_job, sizeof owner_job, "%.1099s", line + 4);
    }
    if (f) fclose(f);
    if (pd_lock_owner_alive(pid, host, slurm))
      return pd_error_raise(
          PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
          "%s is in use by another run: the lock file %s is held by pid %ld "
          "on host %s (job %s, since %s); wait for that run to end, or "
          "remove %s if that process no longer runs phasediag",
          target, path, pid, host, owner_job, since, path);
    pd_log(MPI_COMM_SELF, PD_LOG_WARN,
           "taking over the lock %s of a run that ended without releasing it "
           "(pid %ld on %s, since %s)",
           path, pid, host, since);
    PD_CHECK(unlink(path) == 0 || errno == ENOENT, PD_ERR_IO,
             "cannot remove the stale lock file %s: %s", path, strerror(errno));
  }
  return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                        "cannot take the lock %s: another run takes it too",
                        path);
}

void pd_file_lock_release(pd_file_lock *lock) {
  if (lock->path[0]) unlink(lock->path);
  lock->path[0] = '\0';
}

/* ---- placement ----------------------------------------------------------- */

static int pd_place_refused(const char *tmp, const char *path,
                            const char *why) {
  return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                        "%s %s during the run, so it was not replaced; the "
                        "result is kept in %s (move it into place by hand)",
                        path, why, tmp);
}

int pd_file_place(const char *tmp, const char *path,
                  const pd_file_id *expected) {
  if (expected && expected->exists) {
    pd_file_id now;
    PD_CALL(pd_file_id_of(path, &now));
    if (!pd_file_same(&now, expected))
      return pd_place_refused(
          tmp, path,
          now.exists ? "was replaced by another file" : "was removed");
    PD_CHECK(rename(tmp, path) == 0, PD_ERR_IO,
             "cannot rename %s to %s: %s; the result is kept in %s", tmp, path,
             strerror(errno), tmp);
    return PD_OK;
  }
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return PD_OK;
  if (errno == EEXIST) return pd_place_refused(tmp, path, "appeared");
  PD_CHECK(errno == EINVAL || errno == ENOSYS, PD_ERR_IO,
           "cannot rename %s to %s: %s; the result is kept in %s", tmp, path,
           strerror(errno), tmp);
  /* a file system without RENAME_NOREPLACE: a hard link fails the same way
   * on an existing name */
  if (link(tmp, path) != 0) {
    if (errno == EEXIST) return pd_place_refused(tmp, path, "appeared");
    return pd_error_raise(PD_ERR_IO, __FILE__, __LINE__, __func__,
                          "cannot place %s at %s: %s; the result is kept in %s",
                          tmp, path, strerror(errno), tmp);
  }
  unlink(tmp);
  return PD_OK;
}

long pd_file_name_max(const char *path) {
  char dir[PATH_MAX];
  pd_path_dir(path, dir, sizeof dir);
  long n = pathconf(dir, _PC_NAME_MAX);
  return n > 0 ? n : 255;
}
