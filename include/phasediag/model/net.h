/* The sharded two-layer network, sigma its activation (relu by default).
 *
 *   f(x) = (1/alpha) sum_k a_k sigma(w_k . (x, 1)),   k = 0 .. m-1
 *
 * Neurons are split into fixed blocks of PD_NET_BLOCK; each rank of the
 * network's communicator owns a contiguous range of whole blocks.  Sums over
 * neurons are taken in a fixed order inside a block, then accumulated exactly
 * across blocks and ranks (repsum.h), so every result -- outputs, gradients,
 * norms, parameters after any number of steps -- is bitwise identical for
 * any number of ranks.  Initial parameters come from Philox keyed by
 * (seed, task) with counter (neuron or pair, parameter).
 *
 * Memory: two parameter sets (current and candidate) of d+2 doubles each,
 * and up to d = 62 a copy of theta(0) for RD: 24 (d+2) bytes per neuron, 72
 * at d = 1 (16 (d+2) above d = 62, where RD regenerates theta(0)).  No
 * m x n temporary exists.
 *
 * Collective calls are marked; all others are local. */
#ifndef PHASEDIAG_NET_H
#define PHASEDIAG_NET_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/model/activation.h"
#include "phasediag/model/data.h"
#include "phasediag/model/scheme.h"
#include "phasediag/model/span.h"

#define PD_NET_BLOCK 256 /* neurons per block; part of the summation order */

typedef struct {
  int d;            /* input dimension (>= 1); weights have d+1 entries */
  int64_t m;        /* width (global number of neurons) */
  pd_scales scales; /* alpha, beta1, beta2 */
  int asi;          /* antisymmetric init: pairs (a, w), (-a, w); m even */
  uint64_t seed;    /* RNG key part 1 */
  uint64_t task;    /* RNG key part 2 */
  const pd_activation *act; /* sigma (activation.h); NULL: the default,
                               relu (the net's copy then holds relu) */
  /* NULL: weights in the input space.  Else the net trains in the span of
   * the data (span.h): d is pd_span_rank(span), data passed to the net are
   * coordinates Q^T x, theta(0) is the full-space draw reduced, RD is
   * taken against the full |theta_w(0)| and pd_net_sample returns full
   * weight vectors.  The span must outlive the net. */
  const pd_span *span;
} pd_net_config;

typedef struct pd_net pd_net;

/* Local view of this rank's neurons k0 .. k0+mloc-1: a[k], and w[j*stride+k]
 * for component j = 0..d (j = d is the bias). */
typedef struct {
  int64_t k0, mloc, stride;
  double *a, *w;
} pd_net_view;

/* Bytes of parameter storage per neuron for input dimension d (the span's
 * rank when the net trains in a span, which always keeps theta(0)). */
double pd_net_bytes_per_neuron(int d, int in_span);

/* Collective.  Duplicate comm, allocate this rank's shard and set the initial
 * parameters.  A failure on any rank (bad config, allocation) is returned on
 * every rank. */
int pd_net_create(MPI_Comm comm, const pd_net_config *cfg, pd_net **net);
/* Collective. */
int pd_net_destroy(pd_net **net);

const pd_net_config *pd_net_get_config(const pd_net *net);
/* The input space's dimension: cfg->d, or the span's full dimension. */
int pd_net_input_dim(const pd_net *net);
MPI_Comm pd_net_comm(const pd_net *net);
pd_net_view pd_net_get_view(pd_net *net);

/* Initial value of parameter j of global neuron k in the input space: j = 0
 * is a_k, j = 1..d+1 are the components of w_k (the last is the bias; d
 * the input space's dimension).  Pure function. */
double pd_net_initial_param(const pd_net_config *cfg, int64_t k, int j);

/* Collective: f[i] = f(x_i) for all samples, identical on every rank. */
int pd_net_output(pd_net *net, const pd_data *data, double *f);

/* Local: this rank's part of the gradient J^T c of sum_i c_i f(x_i):
 * ga[k] for a_k and gw[j*stride+k] for w_k (view layout).  With
 * c_i = (f_i - y_i)/n this is the gradient of R = 1/(2n) sum (f - y)^2. */
int pd_net_gradient(pd_net *net, const pd_data *data, const double *c,
                    double *ga, double *gw);

/* Collective: theta <- theta - lr * J^T c (the candidate becomes current)
 * and f[i] = f(x_i) at the new parameters.  pd_net_undo() goes back. */
int pd_net_descend(pd_net *net, const pd_data *data, const double *c, double lr,
                   double *f);
/* Local: return to the parameters before the last pd_net_descend. */
void pd_net_undo(pd_net *net);

/* Local: squared norms of the last pd_net_descend (same on every rank):
 * |a|^2 and |w|^2 before the step, |delta a|^2 and |delta w|^2 of the step
 * (w: input weights and biases). */
void pd_net_step_norms(const pd_net *net, double norms[4]);

/* Collective: u = J J^T v, with J the n x P Jacobian of the outputs. */
int pd_net_jjt(pd_net *net, const pd_data *data, const double *v, double *u);

/* Collective: relative distances from the initial parameters,
 * rd_w = |theta_w - theta_w(0)| / |theta_w(0)| over all input weights and
 * biases, rd_a likewise for the output weights.  theta(0) is the kept copy
 * or, above d = 62, regenerated. */
int pd_net_rd(pd_net *net, double *rd_w, double *rd_a);

/* Collective: the parameters of `count` neurons spread evenly over the width
 * (neuron floor(i m / count) for i < count, count <= m), on every rank:
 * a[i] and w[i * (D + 1) + j], D = pd_net_input_dim (full weight vectors
 * also for a net in a span).  Independent of the decomposition. */
int pd_net_sample(pd_net *net, int64_t count, double *a, double *w);

/* Collective: a 64-bit digest of all parameter bits, independent of the
 * decomposition; equal digests mean (with overwhelming probability) equal
 * parameters. */
int pd_net_fingerprint(pd_net *net, uint64_t *digest);

/* Parameters in global order, independent of the decomposition: parameter
 * j of neuron k, j = 0 for a_k, j = 1 .. d + 1 for the components of w_k
 * (the last is the bias).  A callback gets a contiguous range [k0, k0 +
 * count) of one parameter j and returns a pd_error code. */
typedef int (*pd_net_param_fn)(void *ctx, int j, int64_t k0, int64_t count,
                               double *values);

/* Collective: hand the current parameters to rank root of the net's
 * communicator, which calls put for j = 0 .. d + 1 in turn and, for each j,
 * for ascending ranges covering k = 0 .. m - 1 (at most 2^20 neurons each,
 * so root needs no more than 8 MiB of buffer).  A failure of put on root
 * (the first one; later ranges are skipped) is returned on every rank. */
int pd_net_put_params(pd_net *net, int root, pd_net_param_fn put, void *ctx);

/* Collective: set the current parameters from rank root, which calls get
 * in the same order as put above and sends each range to the rank that
 * owns it (any partition: parameters saved by a group of one size load
 * into a group of another).  A failure of get on root is returned on every
 * rank (the parameters are then undefined). */
int pd_net_get_params(pd_net *net, int root, pd_net_param_fn get, void *ctx);

#endif
