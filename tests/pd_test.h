/* Minimal self-checking test harness for MPI tests.
 *
 * PD_TEST_CHECK records a failure with file and line and goes on; pd_test_end
 * agrees on the outcome over MPI_COMM_WORLD and prints one line on rank 0.
 * A test program returns pd_test_end(): 0 iff every check passed on every
 * rank. */
#ifndef PD_TEST_H
#define PD_TEST_H

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "phasediag/base/error.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/data.h"

static int pd_test_failures;
static int pd_test_checks;

#define PD_TEST_CHECK(cond, ...)                                          \
  do {                                                                    \
    pd_test_checks++;                                                     \
    if (!(cond)) {                                                        \
      int r_;                                                             \
      MPI_Comm_rank(MPI_COMM_WORLD, &r_);                                 \
      fprintf(stderr, "FAIL rank %d %s:%d: %s: ", r_, __FILE__, __LINE__, \
              #cond);                                                     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      pd_test_failures++;                                                 \
    }                                                                     \
  } while (0)

/* A library call that must succeed; on error print its trace and abort the
 * test (a crashed test is a failed test, never a hang). */
#define PD_TEST_OK(expr)                                                  \
  do {                                                                    \
    int e_ = (expr);                                                      \
    if (e_ != PD_OK) {                                                    \
      fprintf(stderr, "FAIL %s:%d: %s returned %d\n", __FILE__, __LINE__, \
              #expr, e_);                                                 \
      pd_error_abort(MPI_COMM_WORLD, e_);                                 \
    }                                                                     \
  } while (0)

static inline int pd_test_end(const char *name) {
  int local = pd_test_failures, total = 0, checks = 0;
  MPI_Allreduce(&local, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&pd_test_checks, &checks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0)
    printf("%s (np %d): %d checks, %d failed: %s\n", name, size, checks, total,
           total ? "FAIL" : "PASS");
  MPI_Finalize();
  return total ? 1 : 0;
}

/* A data set of n points uniform in [-1, 1]^d with N(0, 1) targets, a pure
 * function of seed (Philox), the same on every rank. */
static inline pd_data *pd_test_random_data(int64_t n, int d, uint64_t seed) {
  pd_data *data = NULL;
  PD_TEST_OK(pd_data_create(n, d, &data));
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++)
      data->x[i * d + j] =
          2 * pd_rng_uniform(seed, 1, (uint64_t)i, (uint64_t)j) - 1;
    data->y[i] = pd_rng_normal(seed, 2, (uint64_t)i, 0);
  }
  return data;
}

/* Relative difference, safe at zero. */
static inline double pd_test_rel(double a, double b) {
  double s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  return s > 0 ? fabs(a - b) / s : 0.0;
}

#endif
