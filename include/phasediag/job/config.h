/* The job configuration: an INI file, read and validated on rank 0 with
 * inih, then broadcast.  Every error names the file, the line, the section
 * and key, and what was expected; unknown sections and keys are errors.
 *
 * Sections: [data] [grid] [model] [train] [classify] [features] [spectral]
 * [ntk] [run] [output].  Every key -- its type, range, default and
 * meaning, and the field below it goes to -- is one entry of the key table
 * (confkeys.c); `phasediag --help-config` prints the table (it is the
 * README's).  This module reads the file (inih), checks the keys against
 * each other (a key the data source does not use, odd widths with asi,
 * ...) and broadcasts the result.
 *
 * The struct is plain data (fixed arrays) so it can be broadcast as bytes. */
#ifndef PHASEDIAG_CONFIG_H
#define PHASEDIAG_CONFIG_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/model/scheme.h"
#include "phasediag/train/train.h"

#define PD_CONFIG_MAX_LIST 1024 /* entries of a grid list */
#define PD_CONFIG_MAX_PATH 1024
#define PD_CONFIG_MAX_SHORT \
  16 /* entries of a short list (frequencies, deltas) */

typedef enum {
  PD_TEST_NONE = 0,
  PD_TEST_GRID = 1,
  PD_TEST_HOLDOUT = 2
} pd_test_kind;
typedef enum {
  PD_SAMPLING_AUTO = 0,
  PD_SAMPLING_UNIFORM = 1,
  PD_SAMPLING_RANDOM = 2
} pd_sampling;
/* [model] span: auto trains in the span of the data (span.h) where it is
 * smaller than the input space and no observer needs input coordinates */
typedef enum { PD_SPAN_AUTO = 0, PD_SPAN_OFF = 1 } pd_span_mode;
/* [spectral] methods, as bits */
enum {
  PD_SP_DFT = 1,        /* 1-D DFT / NUDFT at the training points */
  PD_SP_PROJECTION = 2, /* NUDFT along the first principal component */
  PD_SP_FILTER = 4,     /* Gaussian low / high-pass errors */
  PD_SP_GRID = 8        /* FFTW-MPI spectra on an N^d grid */
};

typedef enum {
  PD_DATA_BUILTIN = 0,
  PD_DATA_HDF5 = 1,
  PD_DATA_IDX = 2
} pd_data_source;

typedef struct {
  char path[PD_CONFIG_MAX_PATH]; /* the file the config came from */
  /* [data] */
  int source;         /* pd_data_source */
  char builtin[32];   /* paper1d (default), sines, relu_mix */
  int64_t n;          /* samples (synthetic, idx); 0 = default */
  int d;              /* input dimension (synthetic); 0 = default */
  uint64_t data_seed; /* synthetic data (default 1) */
  char data_file[PD_CONFIG_MAX_PATH]; /* hdf5 */
  char x_dataset[PD_CONFIG_MAX_PATH]; /* hdf5: the inputs' dataset ("x") */
  char y_dataset[PD_CONFIG_MAX_PATH]; /* hdf5: the targets' dataset ("y") */
  char images[PD_CONFIG_MAX_PATH];    /* idx */
  char labels[PD_CONFIG_MAX_PATH];    /* idx */
  int nfreq;                          /* harmonics: frequencies (1, 3, 5) */
  int64_t freqs[PD_CONFIG_MAX_SHORT];
  int sampling;   /* pd_sampling: harmonics inputs (auto: uniform if d = 1) */
  int test;       /* pd_test_kind (none; parity: holdout) */
  int64_t test_n; /* test points; 0 = default (grid 512, holdout n / 4,
                     parity: all points not trained on) */
  /* [grid] */
  int ngamma, ngamma_prime, nwidths, nseeds, nschemes;
  double gamma[PD_CONFIG_MAX_LIST], gamma_prime[PD_CONFIG_MAX_LIST];
  int64_t widths[PD_CONFIG_MAX_LIST];
  uint64_t seeds[PD_CONFIG_MAX_LIST];
  int schemes[PD_SCHEME_COUNT]; /* pd_scheme_kind */
  /* [model] */
  int asi;             /* default true */
  double base_scale;   /* default 1 */
  char activation[16]; /* the hidden units' nonlinearity: "relu" */
  int span;            /* pd_span_mode: train in the span of the data */
  /* [train] */
  pd_train_options train;
  /* [classify] */
  double band; /* default 0.1 */
  /* [features] */
  int feature_cap;        /* default 256 */
  double cos_threshold;   /* default 0.99 */
  int feature_track;      /* orientation clusters at every snapshot (false) */
  double feature_amp_cut; /* of them: amplitude >= this x the largest (0.1) */
  int feature_matrix;     /* neurons of the cosine matrices (32) */
  /* [spectral] (the snapshot count is train.snapshots) */
  int spectral;        /* enabled (false) */
  int sp_methods;      /* PD_SP_* bits; 0 = default (dft for d = 1, else
                          projection and filter) */
  int sp_peaks;        /* peaks tracked at most (8) */
  double sp_peak_rel;  /* a peak is >= this fraction of the largest (1e-2) */
  int sp_max_freq;     /* DFT frequencies examined, 0 = n / 2 (0) */
  double sp_delta_tol; /* converged when Delta_F < this (0.1) */
  int sp_ndeltas;      /* filter widths delta (one: 1.0) */
  double sp_deltas[PD_CONFIG_MAX_SHORT];
  int64_t sp_grid_n;  /* grid points per dimension (32) */
  int sp_grid_method; /* PD_GRIDSPEC_AUTO, _GATHER, _REDUCE (auto) */
  /* [ntk] */
  int ntk;          /* enabled (false) */
  int ntk_top;      /* eigen-components kept (16) */
  double ntk_ridge; /* kernel-regression shift (0) */
  int ntk_lfp;      /* LFP comparison when d = 1 with a test set (true) */
  /* [run] */
  int group_size;                      /* 0 = automatic */
  char checkpoint[PD_CONFIG_MAX_PATH]; /* "" = <output>.ckpt */
  double checkpoint_interval;          /* seconds between checkpoints (600);
                                          0 = none (only on a stop signal) */
  /* [output] */
  char output[PD_CONFIG_MAX_PATH]; /* default phasediag.h5 */
  int overwrite;                   /* default false */
} pd_config;

/* Defaults for every key. */
void pd_config_defaults(pd_config *cfg);

/* Local: parse INI text (named path in messages) into cfg (defaults first).
 * PD_ERR_CONFIG with a message "path:line: [section] key: expected ..., got
 * '...'" for the first error found.  Also validates cross-key constraints
 * (a grid needs widths; odd widths with asi; ...). */
int pd_config_parse(const char *path, const char *text, pd_config *cfg);

/* Collective on comm: rank 0 reads the file and parses it; the config and
 * the file text are broadcast.  On success *text is a malloc'd copy of the
 * file (free with pd_free) on every rank.  An error is returned on every
 * rank, with rank 0's message. */
int pd_config_load(MPI_Comm comm, const char *path, pd_config *cfg,
                   char **text);

#endif
