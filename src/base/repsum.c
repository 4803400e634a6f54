#include "phasediag/base/repsum.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

enum { PD_ACC_COUNT = PD_ACC_DIGITS, PD_ACC_NONFINITE = PD_ACC_DIGITS + 1 };
#define PD_ACC_MASK 0xffffffffull
/* renormalize before any digit could overflow: each add moves < 2^32 */
#define PD_ACC_MAX_PENDING (INT64_C(1) << 30)

void pd_acc_zero(pd_acc *a, size_t n) { memset(a, 0, n * sizeof *a); }

void pd_acc_normalize(pd_acc *a) {
  for (int i = 0; i < PD_ACC_DIGITS - 1; i++) {
    int64_t low = (int64_t)((uint64_t)a->w[i] & PD_ACC_MASK);
    a->w[i + 1] += (a->w[i] - low) / (INT64_C(1) << 32); /* exact division */
    a->w[i] = low;
  }
  a->w[PD_ACC_COUNT] = 0;
}

void pd_acc_add(pd_acc *a, double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  unsigned ex = (unsigned)(bits >> 52) & 0x7ffu;
  uint64_t man = bits & ((UINT64_C(1) << 52) - 1);
  if (ex == 0x7ffu) {
    a->w[PD_ACC_NONFINITE]++;
    return;
  }
  unsigned p; /* bit position of the mantissa's lowest bit, 2^-1074 = bit 0 */
  if (ex == 0) {
    if (man == 0) return;
    p = 0;
  } else {
    man |= UINT64_C(1) << 52;
    p = ex - 1;
  }
  unsigned q = p >> 5, s = p & 31u;
  uint64_t d0 = (man & (PD_ACC_MASK >> s)) << s;
  uint64_t rest = man >> (32u - s);
  uint64_t d1 = rest & PD_ACC_MASK, d2 = rest >> 32;
  if (bits >> 63) {
    a->w[q] -= (int64_t)d0;
    a->w[q + 1] -= (int64_t)d1;
    a->w[q + 2] -= (int64_t)d2;
  } else {
    a->w[q] += (int64_t)d0;
    a->w[q + 1] += (int64_t)d1;
    a->w[q + 2] += (int64_t)d2;
  }
  if (++a->w[PD_ACC_COUNT] >= PD_ACC_MAX_PENDING) pd_acc_normalize(a);
}

double pd_acc_value(const pd_acc *src) {
  if (src->w[PD_ACC_NONFINITE] != 0) return NAN;
  pd_acc a = *src;
  pd_acc_normalize(&a);
  int negative = a.w[PD_ACC_DIGITS - 1] < 0;
  if (negative) {
    for (int i = 0; i < PD_ACC_DIGITS; i++) a.w[i] = -a.w[i];
    pd_acc_normalize(&a);
  }
  int h = PD_ACC_DIGITS - 1;
  while (h >= 0 && a.w[h] == 0) h--;
  if (h < 0) return 0.0;
  double v = 0.0;
  for (int i = h >= 2 ? h - 2 : 0; i <= h; i++)
    v += ldexp((double)a.w[i], 32 * i - 1074);
  return negative ? -v : v;
}

static void pd_acc_op(void *in, void *inout, int *len, MPI_Datatype *dt) {
  (void)dt;
  const pd_acc *x = in;
  pd_acc *y = inout;
  for (int k = 0; k < *len; k++) {
    for (int i = 0; i < PD_ACC_DIGITS; i++) y[k].w[i] += x[k].w[i];
    y[k].w[PD_ACC_COUNT] = 0;
    y[k].w[PD_ACC_NONFINITE] += x[k].w[PD_ACC_NONFINITE];
  }
}

static MPI_Datatype pd_acc_type = MPI_DATATYPE_NULL;
static MPI_Op pd_acc_mpi_op = MPI_OP_NULL;

static int pd_acc_mpi_init(void) {
  if (pd_acc_mpi_op != MPI_OP_NULL) return PD_OK;
  PD_CALL_MPI(MPI_Type_contiguous(PD_ACC_WORDS, MPI_INT64_T, &pd_acc_type));
  PD_CALL_MPI(MPI_Type_commit(&pd_acc_type));
  PD_CALL_MPI(MPI_Op_create(pd_acc_op, 1, &pd_acc_mpi_op));
  return PD_OK;
}

int pd_acc_allreduce(pd_acc *a, size_t n, MPI_Comm comm) {
  PD_CALL(pd_acc_mpi_init());
  for (size_t i = 0; i < n; i++) pd_acc_normalize(&a[i]);
  /* normalized digits are < 2^32, so up to 2^31 ranks sum without overflow */
  const size_t chunk = 1u << 20;
  for (size_t off = 0; off < n; off += chunk) {
    size_t c = n - off < chunk ? n - off : chunk;
    PD_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, a + off, (int)c, pd_acc_type,
                              pd_acc_mpi_op, comm));
  }
  return PD_OK;
}

int pd_acc_reduce(pd_acc *a, size_t n, int root, MPI_Comm comm) {
  PD_CALL(pd_acc_mpi_init());
  int rank;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  for (size_t i = 0; i < n; i++) pd_acc_normalize(&a[i]);
  const size_t chunk = 1u << 20;
  for (size_t off = 0; off < n; off += chunk) {
    size_t c = n - off < chunk ? n - off : chunk;
    if (rank == root)
      PD_CALL_MPI(MPI_Reduce(MPI_IN_PLACE, a + off, (int)c, pd_acc_type,
                             pd_acc_mpi_op, root, comm));
    else
      PD_CALL_MPI(MPI_Reduce(a + off, NULL, (int)c, pd_acc_type, pd_acc_mpi_op,
                             root, comm));
  }
  /* the sums' digits may reach size * 2^32: normalize before further adds */
  if (rank == root)
    for (size_t i = 0; i < n; i++) pd_acc_normalize(&a[i]);
  return PD_OK;
}

int pd_repsum(const double *x, double *out, size_t n, MPI_Comm comm) {
  pd_acc *acc = NULL;
  int err = pd_calloc(n, sizeof *acc, &acc);
  PD_COLLECTIVE(comm, err);
  for (size_t i = 0; i < n; i++) pd_acc_add(&acc[i], x[i]);
  err = pd_acc_allreduce(acc, n, comm);
  if (err == PD_OK)
    for (size_t i = 0; i < n; i++) out[i] = pd_acc_value(&acc[i]);
  pd_free(&acc);
  return err;
}
