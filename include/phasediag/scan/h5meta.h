/* What the result file says about its datasets beyond their numbers: the
 * HDF5 types of text (variable-length UTF-8) and of codes (enums with the
 * names of their values), and, by dataset name, the units and what each
 * dimension is.  output.c writes the file with these; local calls, which
 * make HDF5 types but touch no file. */
#ifndef PHASEDIAG_H5META_H
#define PHASEDIAG_H5META_H

#include <hdf5.h>

/* The kinds of codes stored as integers. */
typedef enum {
  PD_CODES_STATUS,  /* /runs/status: how a run ended (train.h) */
  PD_CODES_REGIME,  /* /phase/regime, theory_regime (scheme.h) */
  PD_CODES_AGREE,   /* /phase/agree: -1 no verdict, 0 no, 1 yes */
  PD_CODES_DECIDED, /* /phase/decided_by (classify.h) */
  PD_CODES_METHOD,  /* /spectral/grid/method (gridspec.h) */
  PD_CODES_COUNT
} pd_codes;

/* Variable-length UTF-8 text (h5py reads str; fixed-length strings come
 * back as bytes); -1 if HDF5 fails.  The caller closes it. */
hid_t pd_h5meta_text(void);

/* An enum over base (H5T_NATIVE_INT8 or H5T_NATIVE_INT64) whose values are
 * the plain integers of before, so a reader that ignores the names gets
 * the numbers it always got; -1 if HDF5 fails.  The caller closes it. */
hid_t pd_h5meta_enum(pd_codes kind, hid_t base);

/* Whether the observers' integer field `name` holds codes, and which. */
int pd_h5meta_field_codes(const char *name, pd_codes *kind);

/* The units of dataset `name` ("s", "1" for a dimensionless quantity a
 * reader could take for a physical one, ...), NULL where it has none. */
const char *pd_h5meta_units(const char *name);

/* The labels of dimensions 0 and 1 of a /data dataset (0 if `name` is not
 * one), and of the dimensions after [point, width, seed] of a per-run
 * dataset (3 and 4; NULL where there is none). */
int pd_h5meta_data_dims(const char *name, const char **dim0, const char **dim1);
int pd_h5meta_trailing_dims(const char *name, const char **dim3,
                            const char **dim4);

#endif
