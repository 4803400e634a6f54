/* The condense observer ([features] track = true): how many orientations
 * the input weights of the neurons that carry the output sit on, at every
 * snapshot of the run, so that the initial stage of training is seen and
 * not only t = 0 and the end.
 *
 * At each snapshot it samples F = min([features] cap, m) neurons (the same
 * neurons at any rank count and every snapshot: pd_net_sample) and counts
 * their orientation clusters (pd_orientation_clusters below):
 *
 *   amplitude    A_k = |a_k| |(w_k, b_k)|, the neuron's weight in the output
 *   significant  the neurons with A_k >= amp_cut * max_k A_k ([features]
 *                amp_cut, default 0.1): a relative cut, so it does not
 *                depend on the scale of the initialization, and in the
 *                initial stage of small-initialization training, where
 *                every neuron grows at the same exponential rate, it keeps
 *                the same neurons while their directions condense
 *   direction    u_k = (w_k, b_k) / |(w_k, b_k)| (the bias included)
 *   clusters     greedy, heaviest first (ties by sample index): a neuron
 *                joins the first cluster whose leader v has u_k . v >=
 *                cos_threshold ([features], default 0.99), else it leads a
 *                new cluster.  The cosine is signed: u and -u are two
 *                orientations, as in the theory (2p orientations for an
 *                activation of multiplicity p)
 *   effective    (sum_c A_c)^2 / sum_c A_c^2 over the clusters, A_c the
 *                amplitude a cluster carries
 *
 * The initial stage: the snapshots before the weights leave the regime
 * where sigma is its Taylor polynomial at 0, the regime of the theory:
 * while z = max_k |(w_k, b_k)| max_i |(x_i, 1)| over the sampled neurons
 * and the training points (a bound on every pre-activation) is at most
 * PD_INITIAL_PREACTIVATION = 1.  The observer keeps the cluster count and
 * row of the last of them ("initial_clusters", "initial_row"), the fewest
 * clusters among them and its first row, and the cosine matrix u_i . u_j
 * of M = min([features] matrix, m) neurons (their own evenly spaced
 * sample) at t = 0, at initial_row and at the end, with the neurons'
 * amplitudes.
 *
 * Its block (S snapshot rows, F = L->F, M = L->C; NaN where unused):
 * head PD_CD_HEAD, then clusters, effective, significant, z [S], then the
 * three matrices [M * M] and the three amplitude rows [M]. */
#ifndef PHASEDIAG_OBS_CONDENSE_H
#define PHASEDIAG_OBS_CONDENSE_H

#include <stdint.h>

#include "phasediag/observe/observer.h"

#define PD_INITIAL_PREACTIVATION 1.0

extern const pd_observer_type pd_obs_condense_type;

/* Local: the clusters of F neurons (a[F], w[F * (d + 1)], as
 * pd_net_sample gives them) as defined above: *clusters, *significant
 * (neurons above the cut) and *effective.  F = 0 or every amplitude 0:
 * 0 clusters, 0 significant, effective NaN. */
int pd_orientation_clusters(int64_t F, int d, const double *a, const double *w,
                            double cos_threshold, double amp_cut,
                            int64_t *clusters, int64_t *significant,
                            double *effective);

/* Local: C[i * M + j] = u_i . u_j for the directions u_k = w_k / |w_k| of
 * M neurons (w[M * (d + 1)]; a zero vector gives 0), amp[k] = |a_k| |w_k|.
 * Summed in a fixed order: the same bits for the same inputs. */
void pd_cosine_matrix(int64_t M, int d, const double *a, const double *w,
                      double *C, double *amp);

#endif
