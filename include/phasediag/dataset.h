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
 *   (sines, relu_mix: x_ij = 2 U(key (data_seed, 0), counter (i, j)) - 1)
 * hdf5:  datasets /x (n x d, or n for d = 1) and /y (n), float64 or
 *        convertible.
 * idx:   MNIST-format images (magic 2051) and labels (magic 2049), gzip
 *        (.gz) or plain; the first n samples; pixels / 255 in [0, 1];
 *        y = label / 9 (classes 0..9 mapped to [0, 1]). */
#ifndef PHASEDIAG_DATASET_H
#define PHASEDIAG_DATASET_H

#include <mpi.h>

#include "phasediag/config.h"
#include "phasediag/data.h"

/* The default Fashion-MNIST files of Debian's dataset-fashion-mnist. */
#define PD_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Local: a built-in data set (n, d ignored for paper1d; 0 means the
 * default n = 64, d = 1). */
int pd_dataset_builtin(const char *name, int64_t n, int d, uint64_t seed,
                       pd_data **data);

/* Local: read /x and /y from an HDF5 file (serial open). */
int pd_dataset_read_hdf5(const char *path, pd_data **data);

/* Local: read the first n samples of IDX image and label files. */
int pd_dataset_read_idx(const char *images, const char *labels, int64_t n,
                        pd_data **data);

/* Collective on comm: the data set cfg names, on every rank. */
int pd_dataset_load(MPI_Comm comm, const pd_config *cfg, pd_data **data);

#endif
