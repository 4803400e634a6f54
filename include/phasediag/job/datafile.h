/* Data files read on one rank: an HDF5 file with an input dataset (n x d,
 * or n for d = 1; /x unless named) and a target dataset (n; /y unless
 * named), numbers of any type; MNIST-format IDX image and label files (gzip
 * or plain), pixels / 255 and y = label / 9.  Every defect is named
 * (missing, not a regular file, locked by a writer, not HDF5 or IDX, a
 * dataset not found -- with the datasets the file's root does hold --,
 * wrong shapes or types, non-finite values, truncation). */
#ifndef PHASEDIAG_DATAFILE_H
#define PHASEDIAG_DATAFILE_H

#include <stdint.h>

#include "phasediag/model/data.h"

/* The datasets an HDF5 data file is read from unless [data] x_dataset and
 * y_dataset name others. */
#define PD_DATAFILE_X "x"
#define PD_DATAFILE_Y "y"

/* Local: read /x and /y from an HDF5 file (serial open). */
int pd_dataset_read_hdf5(const char *path, pd_data **data);

/* Local: the same with the datasets named: xname (inputs) and yname
 * (targets), paths inside the file ("x", "/x" and "train/x" all work). */
int pd_dataset_read_hdf5_sets(const char *path, const char *xname,
                              const char *yname, pd_data **data);

/* Local: read the first n samples of IDX image and label files. */
int pd_dataset_read_idx(const char *images, const char *labels, int64_t n,
                        pd_data **data);

#endif
