#include "phasediag/model/net.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"
#include "phasediag/base/rng.h"
#include "phasediag/base/timer.h"
#include "phasediag/model/kernel.h"
#include "model/clones.h"

struct pd_net {
  MPI_Comm comm;
  pd_net_config cfg;
  int64_t k0, mloc, stride;
  double *a[2], *w[2]; /* current and candidate parameter sets */
  double *a0, *w0;     /* theta(0), kept where it is small (see below) */
  int cur;
  double a0_norm2, w0_norm2; /* |a(0)|^2, |w(0)|^2 */
  double perp2; /* in a span: sum_k |p_k|^2, the frozen part's (span.h) */
  pd_acc *acc;  /* n accumulators for sums over neurons */
  double *cs;   /* n scaled sample coefficients */
  double *P;    /* n x PD_LANES lane partials of a block */
  double step_norms[4]; /* of the last descend: |a|^2 |w|^2 |da|^2 |dw|^2 */
  int64_t acc_n;
  double *tmp;  /* chunk gradient scratch: 2 (d + 2) PD_LANES */
  double *full; /* in a span: D + 2 for a full-space parameter vector */
};

/* RD needs theta(0) at every history point and loss level of a run.
 * Regenerating it from the RNG costs far more than a training step where
 * the data are few (at m = 1e5, n = 4, d = 1, one RD took 9 ms against
 * 0.5 ms for a step), so a copy is kept: half again the parameter memory.
 * Up to d = 62 that is at most 512 bytes a neuron; wider inputs, where
 * memory per neuron is what limits the width, regenerate it. */
#define PD_NET_KEEP_THETA0_MAX (64 - 2)

/* A net in a span keeps it at any rank: regenerating would mean drawing
 * and reducing the full vector, D r operations a neuron. */
static int pd_net_keeps_theta0(int d, int in_span) {
  return in_span || d <= PD_NET_KEEP_THETA0_MAX;
}

double pd_net_bytes_per_neuron(int d, int in_span) {
  return (pd_net_keeps_theta0(d, in_span) ? 3.0 : 2.0) * (d + 2) *
         sizeof(double);
}

/* ---- partition ---------------------------------------------------------- */

static void pd_net_partition(int64_t m, int rank, int size, int64_t *k0,
                             int64_t *mloc) {
  int64_t nb = (m + PD_NET_BLOCK - 1) / PD_NET_BLOCK;
  int64_t q = nb / size, r = nb % size;
  int64_t b0 = rank * q + (rank < r ? rank : r);
  int64_t b1 = b0 + q + (rank < r ? 1 : 0);
  int64_t e = b1 * PD_NET_BLOCK < m ? b1 * PD_NET_BLOCK : m;
  *k0 = b0 * PD_NET_BLOCK < m ? b0 * PD_NET_BLOCK : m;
  *mloc = e - *k0;
}

double pd_net_initial_param(const pd_net_config *cfg, int64_t k, int j) {
  int64_t idx = cfg->asi ? k / 2 : k;
  double z = pd_rng_normal(cfg->seed, cfg->task, (uint64_t)idx, (uint64_t)j);
  if (j > 0) return cfg->scales.beta2 * z;
  double a = cfg->scales.beta1 * z;
  return cfg->asi && (k & 1) ? -a : a;
}

/* The input-space draw of global neuron K into full[0 .. D+1] (D the
 * input space's dimension). */
static void pd_net_draw(const pd_net_config *cfg, int64_t K, double *full) {
  const int D = cfg->span ? pd_span_dim(cfg->span) : cfg->d;
  for (int j = 0; j <= D + 1; j++) full[j] = pd_net_initial_param(cfg, K, j);
}

/* theta(0) of global neuron K into init[0..d+1]; in a span, from the draw
 * in full (scratch of D + 2).  Callers go through a shard in order; the
 * second neuron of an ASI pair (pairs never straddle ranks) mirrors the
 * first, which init still holds. */
static void pd_net_theta0(const pd_net_config *cfg, int64_t K, double *init,
                          double *full) {
  if (cfg->asi && (K & 1)) {
    init[0] = -init[0];
    return;
  }
  if (!cfg->span) {
    pd_net_draw(cfg, K, init);
    return;
  }
  pd_net_draw(cfg, K, full);
  init[0] = full[0];
  pd_span_reduce(cfg->span, full + 1, init + 1);
}

/* Local: dd[0] += |a - a_ref|^2, dd[1] += |w - w_ref|^2 over the current
 * parameters, summed in fixed block order: per neuron k its own sum over
 * the components j (in j order), then those added in k order; the
 * reference is theta(0) if from_init, else zero.  The components of a
 * neuron lie `stride` apart, so a block is walked row by row (neuron by
 * neuron, with r = 45 rows of an m = 1e6 shard, every access missed the
 * TLB: 1 s per RD); only a regenerated theta(0) goes neuron by neuron.
 * init is scratch of d + 2 doubles. */
PD_CLONES static void pd_net_sq_dist(const pd_net *net, int from_init,
                                     double *init, pd_acc dd[2]) {
  const pd_net_config *cfg = &net->cfg;
  const double *a = net->a[net->cur], *w = net->w[net->cur];
  const int regen = from_init && !net->a0, kept = from_init && net->a0;
  double s[PD_NET_BLOCK];
  for (int j = 0; j <= cfg->d + 1; j++) init[j] = 0;
  for (int64_t b = 0; b < net->mloc; b += PD_NET_BLOCK) {
    const int64_t e =
        b + PD_NET_BLOCK < net->mloc ? b + PD_NET_BLOCK : net->mloc;
    const int nb = (int)(e - b);
    double sa = 0, sw = 0;
    for (int i = 0; i < nb; i++) {
      if (regen) pd_net_theta0(cfg, net->k0 + b + i, init, NULL);
      double da = a[b + i] - (kept ? net->a0[b + i] : init[0]);
      sa = fma(da, da, sa);
      s[i] = 0;
      if (regen)
        for (int j = 0; j <= cfg->d; j++) {
          double dw = w[j * net->stride + b + i] - init[j + 1];
          s[i] = fma(dw, dw, s[i]);
        }
    }
    if (!regen)
      for (int j = 0; j <= cfg->d; j++) {
        const double *wj = w + j * net->stride + b;
        const double *rj = kept ? net->w0 + j * net->stride + b : NULL;
        for (int i = 0; i < nb; i++) {
          double dw = wj[i] - (rj ? rj[i] : 0.0);
          s[i] = fma(dw, dw, s[i]);
        }
      }
    for (int i = 0; i < nb; i++) sw += s[i];
    pd_acc_add(&dd[0], sa);
    pd_acc_add(&dd[1], sw);
  }
}

/* ---- creation ----------------------------------------------------------- */

static int pd_net_check_config(const pd_net_config *c) {
  PD_CHECK(c->d >= 1 && c->d <= (1 << 20), PD_ERR_ARG,
           "input dimension %d out of range [1, 2^20]", c->d);
  PD_CHECK(c->m >= 1, PD_ERR_ARG, "width %lld must be >= 1", (long long)c->m);
  PD_CHECK(!c->span || c->d == pd_span_rank(c->span), PD_ERR_ARG,
           "a net in a span of rank %d has d = %d",
           c->span ? pd_span_rank(c->span) : 0, c->d);
  PD_CHECK(!c->asi || c->m % 2 == 0, PD_ERR_ARG,
           "antisymmetric init needs an even width (got %lld)",
           (long long)c->m);
  const pd_scales *s = &c->scales;
  PD_CHECK(isfinite(s->alpha) && s->alpha > 0 && isfinite(s->beta1) &&
               s->beta1 >= 0 && isfinite(s->beta2) && s->beta2 >= 0,
           PD_ERR_ARG,
           "scales must be finite with alpha > 0 and beta >= 0 (alpha %g, "
           "beta1 %g, beta2 %g)",
           s->alpha, s->beta1, s->beta2);
  int nact;
  const pd_activation *acts = pd_activation_list(&nact);
  PD_CHECK(!c->act || (c->act->id >= 0 && c->act->id < nact &&
                       c->act == &acts[c->act->id]),
           PD_ERR_ARG, "the activation is not one of the registry's");
  return PD_OK;
}

static int pd_net_alloc(pd_net *net) {
  const int d = net->cfg.d;
  net->stride = (net->mloc + PD_LANES - 1) / PD_LANES * PD_LANES;
  if (net->stride == 0) net->stride = PD_LANES;
  PD_CHECK((uint64_t)net->stride <= SIZE_MAX / sizeof(double) / (size_t)(d + 1),
           PD_ERR_ALLOC, "shard of %lld neurons in dimension %d is too large",
           (long long)net->mloc, d);
  for (int s = 0; s < 2; s++) {
    PD_CALL(pd_calloc((size_t)net->stride, sizeof(double), &net->a[s]));
    PD_CALL(pd_calloc((size_t)net->stride * (size_t)(d + 1), sizeof(double),
                      &net->w[s]));
  }
  PD_CALL(pd_calloc((size_t)PD_LANES * 2 * (size_t)(d + 2), sizeof(double),
                    &net->tmp));
  if (net->cfg.span)
    PD_CALL(pd_calloc((size_t)pd_span_dim(net->cfg.span) + 2, sizeof(double),
                      &net->full));
  if (pd_net_keeps_theta0(d, net->cfg.span != NULL)) {
    PD_CALL(pd_calloc((size_t)net->stride, sizeof(double), &net->a0));
    PD_CALL(pd_calloc((size_t)net->stride * (size_t)(d + 1), sizeof(double),
                      &net->w0));
  }
  return PD_OK;
}

int pd_net_create(MPI_Comm comm, const pd_net_config *cfg, pd_net **out) {
  *out = NULL;
  int err = pd_net_check_config(cfg);
  PD_COLLECTIVE(comm, err);
  pd_net *net = NULL;
  err = pd_calloc(1, sizeof *net, &net);
  PD_COLLECTIVE(comm, err);
  net->comm = MPI_COMM_NULL;
  net->cfg = *cfg;
  if (!net->cfg.act) net->cfg.act = pd_activation_default();
  int rc = MPI_Comm_dup(comm, &net->comm);
  if (rc != MPI_SUCCESS) {
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_dup");
    net->comm = MPI_COMM_NULL;
  } else {
    MPI_Comm_set_errhandler(net->comm, MPI_ERRORS_RETURN);
    int rank, size;
    MPI_Comm_rank(net->comm, &rank);
    MPI_Comm_size(net->comm, &size);
    pd_net_partition(cfg->m, rank, size, &net->k0, &net->mloc);
    err = pd_net_alloc(net);
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_net_destroy(&net);
    return err;
  }
  double *a = net->a[0], *w = net->w[0], *init = net->tmp;
  pd_acc n2[3]; /* |a(0)|^2, |w(0)|^2 and (below) the latter in the span */
  pd_acc_zero(n2, 3);
  for (int64_t b = 0; b < net->mloc; b += PD_NET_BLOCK) {
    int64_t e = b + PD_NET_BLOCK < net->mloc ? b + PD_NET_BLOCK : net->mloc;
    double sw = 0; /* in a span: |w(0)|^2 of the full draws, summed as
                      pd_net_sq_dist sums it for a net without one */
    for (int64_t k = b; k < e; k++) {
      pd_net_theta0(&net->cfg, net->k0 + k, init, net->full);
      a[k] = init[0];
      for (int j = 0; j <= cfg->d; j++) w[j * net->stride + k] = init[j + 1];
      double sk = 0;
      if (cfg->span)
        for (int j = 1; j <= pd_span_dim(cfg->span) + 1; j++)
          sk = fma(net->full[j], net->full[j], sk);
      sw += sk;
    }
    if (cfg->span) pd_acc_add(&n2[1], sw);
  }
  if (net->a0) {
    memcpy(net->a0, a, (size_t)net->stride * sizeof(double));
    memcpy(net->w0, w,
           (size_t)net->stride * (size_t)(cfg->d + 1) * sizeof(double));
  }
  /* n2[2]: |w(0)|^2 in the net's coordinates; in a span, n2[1] is the
   * full one above and their difference the frozen part's */
  pd_acc nw = n2[1];
  pd_acc_zero(&n2[1], 1);
  pd_net_sq_dist(net, 0, init, n2);
  n2[2] = n2[1];
  if (cfg->span) n2[1] = nw;
  err = pd_acc_allreduce(n2, 3, net->comm);
  PD_COLLECTIVE(net->comm, err);
  net->a0_norm2 = pd_acc_value(&n2[0]);
  net->w0_norm2 = pd_acc_value(&n2[1]);
  net->perp2 = fmax(0.0, net->w0_norm2 - pd_acc_value(&n2[2]));
  *out = net;
  return PD_OK;
}

static void pd_net_workspace_free(pd_net *net) {
  pd_free(&net->acc);
  pd_free(&net->cs);
  pd_free(&net->P);
  net->acc_n = 0;
}

int pd_net_destroy(pd_net **pnet) {
  pd_net *net = *pnet;
  if (!net) return PD_OK;
  for (int s = 0; s < 2; s++) {
    pd_free(&net->a[s]);
    pd_free(&net->w[s]);
  }
  pd_free(&net->a0);
  pd_free(&net->w0);
  pd_free(&net->tmp);
  pd_free(&net->full);
  pd_net_workspace_free(net);
  if (net->comm != MPI_COMM_NULL) MPI_Comm_free(&net->comm);
  pd_free(pnet);
  return PD_OK;
}

const pd_net_config *pd_net_get_config(const pd_net *net) { return &net->cfg; }
int pd_net_input_dim(const pd_net *net) {
  return net->cfg.span ? pd_span_dim(net->cfg.span) : net->cfg.d;
}
MPI_Comm pd_net_comm(const pd_net *net) { return net->comm; }

pd_net_view pd_net_get_view(pd_net *net) {
  return (pd_net_view){net->k0, net->mloc, net->stride, net->a[net->cur],
                       net->w[net->cur]};
}

/* Collective: workspace for n samples with the accumulators zeroed and, if
 * c is given, net->cs = c / alpha (the Jacobian's 1/alpha, once per sample).
 * Every rank has seen the same n, so all or none take the allocation branch
 * and its agreement. */

static int pd_net_workspace(pd_net *net, int64_t n, const double *c) {
  if (net->acc_n < n) {
    pd_net_workspace_free(net);
    /* n sums over neurons and 4 norms of a descent step */
    int err = pd_calloc((size_t)n + 4, sizeof(pd_acc), &net->acc);
    if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &net->cs);
    if (err == PD_OK)
      err = pd_calloc((size_t)n * PD_LANES, sizeof(double), &net->P);
    err = pd_error_collective(net->comm, err, __FILE__, __LINE__);
    if (err != PD_OK) { /* all ranks start from nothing next time */
      pd_net_workspace_free(net);
      return err;
    }
    net->acc_n = n;
  }
  pd_acc_zero(net->acc, (size_t)n + 4);
  if (c)
    for (int64_t i = 0; i < n; i++) net->cs[i] = c[i] / net->cfg.scales.alpha;
  return PD_OK;
}

/* ---- collective operations --------------------------------------------- */

static int pd_net_check_data(const pd_net *net, const pd_data *data) {
  PD_CHECK(data->d == net->cfg.d, PD_ERR_ARG,
           "data dimension %d differs from the network's %d", data->d,
           net->cfg.d);
  return PD_OK;
}

static pd_shard pd_net_shard(const pd_net *net) {
  int nx = 1 - net->cur;
  return (pd_shard){.a = net->a[net->cur],
                    .w = net->w[net->cur],
                    .an = net->a[nx],
                    .wn = net->w[nx],
                    .stride = net->stride,
                    .mloc = net->mloc,
                    .act = net->cfg.act};
}

/* Reduce the first n accumulators; write value / alpha to out if given. */
static int pd_net_finish_sum(pd_net *net, int64_t n, double *out) {
  pd_timer_start(PD_T_REDUCE);
  int err = pd_acc_allreduce(net->acc, (size_t)n, net->comm);
  pd_timer_stop(PD_T_REDUCE);
  PD_CALL(err);
  if (out)
    for (int64_t i = 0; i < n; i++)
      out[i] = pd_acc_value(&net->acc[i]) / net->cfg.scales.alpha;
  return PD_OK;
}

int pd_net_output(pd_net *net, const pd_data *data, double *f) {
  PD_CALL(pd_net_check_data(net, data));
  PD_CALL(pd_net_workspace(net, data->n, NULL));
  pd_shard sh = pd_net_shard(net);
  pd_timer_start(PD_T_KERNEL);
  pd_kernel_output(&sh, data, net->P, net->acc);
  pd_timer_stop(PD_T_KERNEL);
  return pd_net_finish_sum(net, data->n, f);
}

int pd_net_gradient(pd_net *net, const pd_data *data, const double *c,
                    double *ga, double *gw) {
  PD_CALL(pd_net_check_data(net, data));
  PD_CALL(pd_net_workspace(net, data->n, c));
  pd_shard sh = pd_net_shard(net);
  pd_kernel_gradient(&sh, data, net->cs, net->tmp, ga, gw);
  return PD_OK;
}

int pd_net_descend(pd_net *net, const pd_data *data, const double *c, double lr,
                   double *f) {
  PD_CALL(pd_net_check_data(net, data));
  PD_CALL(pd_net_workspace(net, data->n, c));
  pd_shard sh = pd_net_shard(net);
  pd_timer_start(PD_T_KERNEL);
  pd_kernel_descend(&sh, data, net->cs, lr, net->tmp, net->P, net->acc,
                    net->acc + data->n);
  pd_timer_stop(PD_T_KERNEL);
  net->cur = 1 - net->cur;
  /* the outputs and the step norms in one reduction */
  PD_CALL(pd_net_finish_sum(net, data->n + 4, NULL));
  for (int64_t i = 0; i < data->n; i++)
    f[i] = pd_acc_value(&net->acc[i]) / net->cfg.scales.alpha;
  for (int i = 0; i < 4; i++)
    net->step_norms[i] = pd_acc_value(&net->acc[data->n + i]);
  return PD_OK;
}

void pd_net_undo(pd_net *net) { net->cur = 1 - net->cur; }

void pd_net_step_norms(const pd_net *net, double norms[4]) {
  for (int i = 0; i < 4; i++) norms[i] = net->step_norms[i];
  norms[1] += net->perp2; /* |w|^2 of the whole vectors */
}

int pd_net_jjt(pd_net *net, const pd_data *data, const double *v, double *u) {
  PD_CALL(pd_net_check_data(net, data));
  PD_CALL(pd_net_workspace(net, data->n, v));
  pd_shard sh = pd_net_shard(net);
  pd_timer_start(PD_T_KERNEL);
  pd_kernel_jjt(&sh, data, net->cs, net->tmp, net->P, net->acc);
  pd_timer_stop(PD_T_KERNEL);
  return pd_net_finish_sum(net, data->n, u);
}

int pd_net_rd(pd_net *net, double *rd_w, double *rd_a) {
  pd_timer_start(PD_T_RD);
  pd_acc dd[2];
  pd_acc_zero(dd, 2);
  pd_net_sq_dist(net, 1, net->tmp, dd); /* tmp is free between kernels */
  int err = pd_acc_allreduce(dd, 2, net->comm);
  pd_timer_stop(PD_T_RD);
  PD_CALL(err);
  *rd_a = sqrt(pd_acc_value(&dd[0])) / sqrt(net->a0_norm2);
  *rd_w = sqrt(pd_acc_value(&dd[1])) / sqrt(net->w0_norm2);
  return PD_OK;
}

int pd_net_sample(pd_net *net, int64_t count, double *a, double *w) {
  const int64_t m = net->cfg.m;
  const int d1 = pd_net_input_dim(net) + 1, r1 = net->cfg.d + 1;
  PD_CHECK(count >= 0 && count <= m, PD_ERR_ARG,
           "sample of %lld neurons from a width of %lld", (long long)count,
           (long long)m);
  PD_CHECK((uint64_t)count * (uint64_t)(d1 + 1) <= (uint64_t)INT32_MAX,
           PD_ERR_ARG, "sample of %lld neurons is too large", (long long)count);
  const double *ca = net->a[net->cur], *cw = net->w[net->cur];
  memset(a, 0, sizeof(double) * (size_t)count);
  memset(w, 0, sizeof(double) * (size_t)count * (size_t)d1);
  for (int64_t i = 0; i < count; i++) {
    /* floor(i m / count) without overflow for any realistic m */
    int64_t k = (int64_t)((long double)i * (long double)m / (long double)count);
    if (k < net->k0 || k >= net->k0 + net->mloc) continue;
    const int64_t kl = k - net->k0;
    a[i] = ca[kl];
    if (!net->cfg.span) {
      for (int j = 0; j < d1; j++) w[i * d1 + j] = cw[j * net->stride + kl];
      continue;
    }
    /* the full vector: its draw plus the motion in the span */
    double *w0f = net->full, *cur = net->tmp, *ini = net->tmp + r1;
    pd_net_draw(&net->cfg, k, w0f);
    for (int j = 0; j < r1; j++) {
      cur[j] = cw[j * net->stride + kl];
      ini[j] = net->w0[j * net->stride + kl];
    }
    pd_span_lift(net->cfg.span, w0f + 1, ini, cur, w + i * d1);
  }
  /* one rank owns each entry, the others hold 0: the sum is exact */
  PD_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, a, (int)count, MPI_DOUBLE, MPI_SUM,
                            net->comm));
  PD_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, w, (int)(count * d1), MPI_DOUBLE,
                            MPI_SUM, net->comm));
  return PD_OK;
}

static uint64_t pd_mix64(uint64_t x) { /* splitmix64 finalizer */
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

int pd_net_fingerprint(pd_net *net, uint64_t *digest) {
  const double *a = net->a[net->cur], *w = net->w[net->cur];
  uint64_t local = 0;
  for (int64_t k = 0; k < net->mloc; k++) {
    uint64_t h = pd_mix64((uint64_t)(net->k0 + k)), bits;
    memcpy(&bits, &a[k], sizeof bits);
    h = pd_mix64(h ^ bits);
    for (int j = 0; j <= net->cfg.d; j++) {
      memcpy(&bits, &w[j * net->stride + k], sizeof bits);
      h = pd_mix64(h ^ bits);
    }
    local += h; /* addition mod 2^64: independent of the order */
  }
  PD_CALL_MPI(
      MPI_Allreduce(&local, digest, 1, MPI_UINT64_T, MPI_SUM, net->comm));
  return PD_OK;
}

/* ---- parameters in global order ----------------------------------------- */

#define PD_NET_PARAM_CHUNK ((int64_t)1 << 20)
#define PD_NET_PARAM_TAG 4711

/* Local: parameter j of local neurons [k, k + count) into or from buf. */
static void pd_net_param_copy(pd_net *net, int j, int64_t k, int64_t count,
                              double *buf, int to_net) {
  double *p = j == 0 ? net->a[net->cur]
                     : net->w[net->cur] + (int64_t)(j - 1) * net->stride;
  if (to_net)
    memcpy(p + k, buf, sizeof(double) * (size_t)count);
  else
    memcpy(buf, p + k, sizeof(double) * (size_t)count);
}

/* The parameters between every rank and the root's callback, in global
 * order (every rank's range in rank order), in chunks.  to_net = 0: the
 * root hands each chunk to fn; 1: fn fills each chunk, which goes to its
 * owner.  A failed fn does not stop the transfer (the values are then
 * garbage and the error is returned everywhere), so no rank waits
 * forever. */
static int pd_net_transfer(pd_net *net, int root, pd_net_param_fn fn, void *ctx,
                           int to_net) {
  int rank, size;
  PD_CALL_MPI(MPI_Comm_rank(net->comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(net->comm, &size));
  const int64_t chunk = PD_NET_PARAM_CHUNK;
  double *buf = NULL;
  int err = pd_calloc((size_t)chunk, sizeof(double), &buf);
  PD_COLLECTIVE(net->comm, err);
  int mpierr = MPI_SUCCESS;
  for (int j = 0; j <= net->cfg.d + 1 && mpierr == MPI_SUCCESS; j++) {
    if (rank != root) { /* this rank's range, in order */
      for (int64_t k = 0; k < net->mloc && mpierr == MPI_SUCCESS; k += chunk) {
        int64_t c = net->mloc - k < chunk ? net->mloc - k : chunk;
        if (to_net) {
          mpierr = MPI_Recv(buf, (int)c, MPI_DOUBLE, root, PD_NET_PARAM_TAG,
                            net->comm, MPI_STATUS_IGNORE);
          if (mpierr == MPI_SUCCESS) pd_net_param_copy(net, j, k, c, buf, 1);
        } else {
          pd_net_param_copy(net, j, k, c, buf, 0);
          mpierr = MPI_Send(buf, (int)c, MPI_DOUBLE, root, PD_NET_PARAM_TAG,
                            net->comm);
        }
      }
      continue;
    }
    for (int r = 0; r < size && mpierr == MPI_SUCCESS; r++) {
      int64_t k0, mloc;
      pd_net_partition(net->cfg.m, r, size, &k0, &mloc);
      for (int64_t k = 0; k < mloc && mpierr == MPI_SUCCESS; k += chunk) {
        int64_t c = mloc - k < chunk ? mloc - k : chunk;
        if (to_net && err == PD_OK) err = fn(ctx, j, k0 + k, c, buf);
        if (r == root)
          pd_net_param_copy(net, j, k, c, buf, to_net);
        else if (to_net)
          mpierr =
              MPI_Send(buf, (int)c, MPI_DOUBLE, r, PD_NET_PARAM_TAG, net->comm);
        else
          mpierr = MPI_Recv(buf, (int)c, MPI_DOUBLE, r, PD_NET_PARAM_TAG,
                            net->comm, MPI_STATUS_IGNORE);
        if (!to_net && mpierr == MPI_SUCCESS && err == PD_OK)
          err = fn(ctx, j, k0 + k, c, buf);
      }
    }
  }
  pd_free(&buf);
  if (mpierr != MPI_SUCCESS)
    err = pd_error_mpi(mpierr, __FILE__, __LINE__, __func__,
                       "MPI_Send/MPI_Recv(parameters)");
  PD_COLLECTIVE(net->comm, err);
  return PD_OK;
}

int pd_net_put_params(pd_net *net, int root, pd_net_param_fn put, void *ctx) {
  return pd_net_transfer(net, root, put, ctx, 0);
}

int pd_net_get_params(pd_net *net, int root, pd_net_param_fn get, void *ctx) {
  return pd_net_transfer(net, root, get, ctx, 1);
}
