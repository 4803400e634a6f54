/* Checkpoint of a scan: the records of the completed tasks, so that an
 * interrupted scan (a signal, a killed rank, a node lost) resumes where it
 * stopped and ends with the same result file as an uninterrupted run.
 *
 * One HDF5 file, written by rank 0 alone (serial HDF5) to PATH.tmp and
 * renamed to PATH, so a reader sees the previous checkpoint or the new one,
 * never a half-written file (a process killed mid-write leaves PATH.tmp,
 * which the next write replaces).  Layout (format_version 3):
 *
 *   / attributes  format = "phasediag checkpoint", format_version = 3,
 *                 version (PD_VERSION of the writer), git_commit,
 *                 config_hash (uint64: 64-bit FNV-1a of the job file text),
 *                 record_len (doubles per task record), ntasks, ndone,
 *                 records_crc32c (uint32: CRC-32C, crc.h, of /tasks then
 *                 /records, every value as its 8 little-endian bytes; 0
 *                 when ndone = 0), created_utc
 *   /config_text  the job file as read (a string), for humans
 *   /tasks        int64 [ndone]: the completed task indices, ascending
 *   /records      float64 [ndone, record_len]: their records (record.h)
 *
 * A checkpoint belongs to a job when the config hash, the record length,
 * the task count and the version all match.  Its records are checked
 * against records_crc32c before any is used: a damaged checkpoint is
 * refused (PD_ERR_CONFIG, like one of another job: --overwrite discards
 * it).  The records of a sound checkpoint are bitwise
 * those the tasks would compute again (tasks are deterministic and do not
 * depend on the rank count or group size).  Tasks in flight save their
 * state beside it (at a stop signal and periodically), one file per task,
 * PATH.task-T, by their group leader (task.c; docs/output.md): on resume
 * they continue from the step where they were saved.
 *
 * All functions are local (rank 0). */
#ifndef PHASEDIAG_CHECKPOINT_H
#define PHASEDIAG_CHECKPOINT_H

#include <mpi.h>
#include <stdint.h>

typedef struct {
  const char *path;        /* the checkpoint file */
  const char *job;         /* the job file's name, for messages */
  const char *config_text; /* the job file, verbatim */
  int64_t ntasks, len;     /* tasks of the plan, doubles per record */
} pd_checkpoint_info;

/* 64-bit FNV-1a of a NUL-terminated text. */
uint64_t pd_checkpoint_hash(const char *text);

/* Default path of the checkpoint for an output file: OUTPUT.ckpt. */
void pd_checkpoint_default_path(const char *output, char *path, size_t size);

/* Does a checkpoint exist at ci->path, and does it belong to this job?
 * *exists = 0 and PD_OK when there is none.  A checkpoint of another job
 * (or another version, or a different record layout) is PD_ERR_CONFIG with
 * a message naming both files and what differs; a damaged one (its records
 * do not match records_crc32c) is PD_ERR_CONFIG with a message saying so;
 * an unreadable one is PD_ERR_IO.  *ndone: the completed tasks it holds. */
int pd_checkpoint_probe(const pd_checkpoint_info *ci, int *exists,
                        int64_t *ndone);

/* Read the checkpoint into results (ntasks x len, rows of tasks not in it
 * untouched) after checking it as pd_checkpoint_probe does.  *ndone: the
 * tasks restored. */
int pd_checkpoint_read(const pd_checkpoint_info *ci, double *results,
                       int64_t *ndone);

/* Write the completed records of results (ntasks x len; complete: record
 * field PD_R_TASK >= 0) atomically.  *ndone (may be NULL): how many. */
int pd_checkpoint_write(const pd_checkpoint_info *ci, const double *results,
                        int64_t *ndone);

/* The in-flight state file of task t next to the checkpoint at path:
 * PATH.task-T (see pd_job.state_prefix). */
void pd_checkpoint_task_path(const char *path, int64_t t, char *out,
                             size_t size);

/* Remove the state files (and their .tmp) of the tasks t < ntasks with
 * done == NULL or done[t] != 0; missing files are fine.  *removed (may be
 * NULL): how many existed. */
int pd_checkpoint_remove_task_states(const char *path, int64_t ntasks,
                                     const unsigned char *done,
                                     int64_t *removed);

/* Remove the checkpoint (and a stale PATH.tmp); a missing file is fine. */
int pd_checkpoint_remove(const pd_checkpoint_info *ci);

/* Collective: rank 0 estimates whether `bytes` fit in the free space of the
 * file system holding the file `path` (statvfs of its directory); refuses
 * with the numbers (PD_ERR_IO) when they do not.  `what` names the file in
 * the message ("output file", "checkpoint"). */
int pd_checkpoint_check_space(MPI_Comm comm, const char *path, double bytes,
                              const char *what);

#endif
