/* Internal: the fused neuron x sample kernels behind pd_net.
 *
 * A shard's neurons are processed in chunks of PD_LANES (8) with the samples
 * in the inner loop, so a chunk's parameters and gradient stay in registers
 * and no m x n temporary exists.  Sums over neurons go to lane partials
 * P[i][l] (neuron k adds to lane k % 8, in k order); at the end of each block
 * of PD_NET_BLOCK neurons the lanes are combined in a fixed tree and added
 * exactly to acc[i] (repsum.h).  Shards are padded with zero neurons to a
 * multiple of 8: those add exact zeros, so no tail loop exists.
 *
 * The activation sigma is the shard's (activation.h); every kernel is
 * instantiated for every registered activation (kernel_body.h).  The
 * implementations give the same bits: a portable one (fma() from C99) and
 * AVX2+FMA ones (d = 1; d > 1 with register tiles of 8 neurons x 6 samples
 * for the forward products and 8 neurons x 3 components x 2 parities for
 * the gradient's sums over samples), chosen at run time.  They use the same
 * operations in the same order, fma rounds once either way, and an
 * activation's scalar and vector forms agree bit for bit.  For d > 1 the
 * shard loops copy each chunk's d + 1 rows (stride doubles apart) into a
 * contiguous buffer first, and prefetch the next chunk's rows while the
 * current one computes. */
#ifndef PHASEDIAG_KERNEL_H
#define PHASEDIAG_KERNEL_H

#include <stdint.h>

#include "phasediag/base/repsum.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/data.h"

#define PD_LANES 8

/* PD_ISA_AVX2_DN4: AVX2 with the previous kernel for d > 1 (four samples at
 * a time, gradient partials in memory): same bits, kept for comparisons */
typedef enum {
  PD_ISA_AUTO = 0,
  PD_ISA_GENERIC = 1,
  PD_ISA_AVX2 = 2,
  PD_ISA_AVX2_DN4 = 3
} pd_isa;

/* Force an implementation (tests, benchmarks); AUTO picks the fastest the
 * CPU supports.  Returns the ISA now in use. */
pd_isa pd_kernel_set_isa(pd_isa isa);
/* Name of the implementation used for input dimension d. */
const char *pd_kernel_name(int d);

typedef struct {
  const double *a, *w; /* a[k], w[j*stride + k]: current parameters */
  double *an, *wn;     /* candidate parameters (descend only) */
  int64_t stride, mloc;
  const pd_activation *act; /* sigma; NULL: relu */
} pd_shard;

/* tmp is scratch of 2 (d + 2) PD_LANES doubles; P holds n x PD_LANES lane
 * partials (zero on entry and on return); acc has n accumulators. */

/* acc[i] += sum_k a_k sigma(w_k . x~_i) */
void pd_kernel_output(const pd_shard *sh, const pd_data *data, double *P,
                      pd_acc *acc);
/* an, wn = theta - lr J^T c (unscaled J), then acc[i] += output at an, wn;
 * norms[0..3] += |a|^2, |w|^2, |an - a|^2, |wn - w|^2 */
void pd_kernel_descend(const pd_shard *sh, const pd_data *data, const double *c,
                       double lr, double *tmp, double *P, pd_acc *acc,
                       pd_acc *norms);
/* acc[i] += (J J^T v)_i (unscaled J) */
void pd_kernel_jjt(const pd_shard *sh, const pd_data *data, const double *v,
                   double *tmp, double *P, pd_acc *acc);
/* ga, gw (shard layout) = J^T c (unscaled J) */
void pd_kernel_gradient(const pd_shard *sh, const pd_data *data,
                        const double *c, double *tmp, double *ga, double *gw);

#endif
