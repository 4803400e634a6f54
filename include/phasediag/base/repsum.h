/* Exact, order-independent accumulation of doubles (reproducible sums).
 *
 * A pd_acc holds a sum of doubles exactly, as a fixed-point integer spanning
 * the whole double range (radix-2^32 digits in int64 words, carries deferred).
 * Integer addition is associative, so the sum -- and the double it rounds to
 * -- is the same bit for bit whatever the order of additions and however the
 * terms are spread over ranks.  pd_acc_allreduce combines accumulators across
 * a communicator with a user MPI operation.  Size: 560 bytes each.
 * NaN and Inf terms are counted; such a sum reads back as NaN. */
#ifndef PHASEDIAG_REPSUM_H
#define PHASEDIAG_REPSUM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define PD_ACC_DIGITS 68 /* 2176 bits: 2098 for doubles, the rest carries */
#define PD_ACC_WORDS (PD_ACC_DIGITS + 2)

typedef struct {
  int64_t w[PD_ACC_WORDS]; /* digits, pending-add count, non-finite count */
} pd_acc;

/* Set n accumulators to zero. */
void pd_acc_zero(pd_acc *a, size_t n);

/* Add x exactly. */
void pd_acc_add(pd_acc *a, double x);

/* Propagate carries (digits to [0, 2^32), top digit signed). */
void pd_acc_normalize(pd_acc *a);

/* The sum rounded to double (faithful: error below one ulp); NaN if any term
 * was NaN or infinite. Does not modify a. */
double pd_acc_value(const pd_acc *a);

/* In-place exact sum of n accumulators over comm (collective).  Returns an
 * error code; n*PD_ACC_WORDS must fit an MPI int count in chunks. */
int pd_acc_allreduce(pd_acc *a, size_t n, MPI_Comm comm);

/* Exact sum of n accumulators over comm into rank `root` (collective): on
 * root, a[i] becomes the sum over all ranks (normalized); elsewhere a[i] is
 * only normalized (same value).  Counts are chunked to fit MPI ints. */
int pd_acc_reduce(pd_acc *a, size_t n, int root, MPI_Comm comm);

/* Convenience, collective: reproducible sum over comm of the local values
 * x[0..n) (each rank's x summed exactly), result in out[0..n) on all ranks. */
int pd_repsum(const double *x, double *out, size_t n, MPI_Comm comm);

#endif
