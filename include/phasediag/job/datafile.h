/* Data files read on one rank: an HDF5 file with /x (n x d, or n for
 * d = 1) and /y (n), numbers of any type; MNIST-format IDX image and label
 * files (gzip or plain), pixels / 255 and y = label / 9.  Every defect is
 * named (missing, not a regular file, locked by a writer, not HDF5 or IDX,
 * wrong shapes or types, non-finite values, truncation). */
#ifndef PHASEDIAG_DATAFILE_H
#define PHASEDIAG_DATAFILE_H

#include <stdint.h>

#include "phasediag/model/data.h"

/* Local: read /x and /y from an HDF5 file (serial open). */
int pd_dataset_read_hdf5(const char *path, pd_data **data);

/* Local: read the first n samples of IDX image and label files. */
int pd_dataset_read_idx(const char *images, const char *labels, int64_t n,
                        pd_data **data);

#endif
