/* Data sources named by a configuration: built-in targets, an HDF5 file,
 * MNIST-format IDX files.  Files are read on rank 0 and broadcast; every
 * rank ends with the same pd_data.
 *
 * builtin:
 *   paper1d   the 4 points of Luo et al.: x = -1/2, -1/6, 1/6, 1/2, y = x^2
 *             (n and d are fixed: 4 and 1)
 *   sines     n points uniform in [-1, 1]^d (Philox, data_seed),
 *             y = sum_j [sin(pi x_j) + sin(3 pi x_j) / 3] / d
 *   relu_mix  n points uniform in [-1, 1]^d (Philox, data_seed), y = a fixed
 *             mix of 4 ReLUs: y = sum_r c_r relu(u_r . x + b_r) with u_r,
 *             b_r, c_r drawn from Philox with key (data_seed, 1000 + r):
 *             u_r = g / |g|, g_j = N(key, counter (j, 0)) (a unit vector);
 *             b_r = 2 U(key, (0, 1)) - 1 (every kink crosses the cube);
 *             c_r = N(key, (0, 2))
 *   harmonics n points in [-pi, pi)^d: uniformly spaced x_i = -pi + 2 pi i / n
 *             for d = 1 (sampling = auto or uniform: one period, so the DFT
 *             at the points is exact), else pi (2 U - 1) as below;
 *             y = (1/d) sum_j sum_f sin(f x_j) over [data] frequencies
 *             (1, 3, 5): the power sits at |k| = f
 *   parity    the 2^d corners of {-1, 1}^d (d <= 20, default 10) in an order
 *             shuffled by Philox (key (data_seed, 2)), y = prod_j x_j; the
 *             first n (default 2^(d-1)) train, the rest is the holdout set
 *   zhou2022  n points (default 80) uniform in [-4, 2]^d (default d = 5),
 *             x_ij = 6 U(key (data_seed, 0), counter (i, j)) - 4,
 *             y = sum_j 3.5 sin(5 x_j + 1): the target of Zhou et al.'s
 *             initial-condensation experiments (NeurIPS 2022)
 *   (sines, relu_mix: x_ij = 2 U(key (data_seed, 0), counter (i, j)) - 1)
 *
 * Test sets ([data] test): grid = test_n (512) points uniformly spaced over
 * the built-in target's domain, ends included (1-D, analytic targets only);
 * holdout = built-in: test_n (n / 4) fresh points of the same stream
 * (indices n, n + 1, ...); parity: the corners not trained on; files: the
 * last test_n samples (hdf5: of the file, default a fifth; idx: read after
 * the n training samples, default 250).
 * hdf5:  datasets /x (n x d, or n for d = 1) and /y (n), float64 or
 *        convertible; [data] x_dataset and y_dataset name others.
 * idx:   MNIST-format images (magic 2051) and labels (magic 2049), gzip
 *        (.gz) or plain; the first n samples; pixels / 255 in [0, 1];
 *        y = label / 9 (classes 0..9 mapped to [0, 1]). */
#ifndef PHASEDIAG_DATASET_H
#define PHASEDIAG_DATASET_H

#include <mpi.h>

#include "phasediag/job/config.h"
#include "phasediag/job/datafile.h"
#include "phasediag/model/data.h"

/* The default Fashion-MNIST files of Debian's dataset-fashion-mnist. */
#define PD_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* The built-in data sets, in the order above: [data] builtin takes these
 * names and no others. */
#define PD_DATASET_NBUILTIN 6

/* zhou2022's defaults */
#define PD_ZHOU2022_N 80
#define PD_ZHOU2022_D 5
extern const char *const pd_dataset_builtin_names[PD_DATASET_NBUILTIN];

/* Local: a built-in data set (n, d ignored for paper1d; 0 means the
 * default n = 64, d = 1). */
int pd_dataset_builtin(const char *name, int64_t n, int d, uint64_t seed,
                       pd_data **data);

/* pd_dataset_read_hdf5(_sets), pd_dataset_read_idx: datafile.h */

/* Collective on comm: the data set cfg names, on every rank. */
int pd_dataset_load(MPI_Comm comm, const pd_config *cfg, pd_data **data);

/* Collective on comm: the training set and the test set of [data] test
 * (*test = NULL when none), on every rank. */
int pd_dataset_load_sets(MPI_Comm comm, const pd_config *cfg, pd_data **data,
                         pd_data **test);

/* Local: y = the built-in target of cfg at the n points x (n x d); an error
 * for parity and for files (no target between the data). */
int pd_dataset_target(const pd_config *cfg, int64_t n, int d, const double *x,
                      double *y);

/* Local: the interval the built-in inputs come from, per coordinate
 * (paper1d [-1/2, 1/2], harmonics [-pi, pi], zhou2022 [-4, 2], others
 * [-1, 1]). */
void pd_dataset_domain(const pd_config *cfg, double *lo, double *hi);

#endif
