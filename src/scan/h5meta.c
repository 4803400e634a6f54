#include "phasediag/scan/h5meta.h"

#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "phasediag/model/scheme.h"
#include "phasediag/observe/gridspec.h"
#include "phasediag/scan/classify.h"
#include "phasediag/train/train.h"

#define PD_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- codes --------------------------------------------------------------- */

/* One member of an enum: the name a reader sees for the value. */
typedef struct {
  const char *name;
  int value;
} pd_h5_code;

static const pd_h5_code pd_status_codes[] = {
    {"converged", PD_STATUS_CONVERGED},   {"max_steps", PD_STATUS_MAX_STEPS},
    {"diverged", PD_STATUS_DIVERGED},     {"stalled", PD_STATUS_STALLED},
    {"stationary", PD_STATUS_STATIONARY}, {"not_run", PD_STATUS_NOT_RUN}};
static const pd_h5_code pd_regime_codes[] = {
    {"undetermined", PD_REGIME_UNDETERMINED},
    {"linear", PD_REGIME_LINEAR},
    {"critical", PD_REGIME_CRITICAL},
    {"condensed", PD_REGIME_CONDENSED}};
static const pd_h5_code pd_agree_codes[] = {
    {"no_verdict", -1}, {"no", 0}, {"yes", 1}};
static const pd_h5_code pd_decided_codes[] = {
    {"neither", PD_DECIDED_NONE},
    {"t_star", PD_DECIDED_TSTAR},
    {"matched_loss", PD_DECIDED_MATCHED}};
static const pd_h5_code pd_method_codes[] = {{"gather", PD_GRIDSPEC_GATHER},
                                             {"reduce", PD_GRIDSPEC_REDUCE}};

static const struct {
  const pd_h5_code *codes;
  size_t n;
} pd_code_kinds[PD_CODES_COUNT] = {
    [PD_CODES_STATUS] = {pd_status_codes, PD_COUNT(pd_status_codes)},
    [PD_CODES_REGIME] = {pd_regime_codes, PD_COUNT(pd_regime_codes)},
    [PD_CODES_AGREE] = {pd_agree_codes, PD_COUNT(pd_agree_codes)},
    [PD_CODES_DECIDED] = {pd_decided_codes, PD_COUNT(pd_decided_codes)},
    [PD_CODES_METHOD] = {pd_method_codes, PD_COUNT(pd_method_codes)}};

/* The observers' fields that hold codes (stored as int64 before they were
 * enums: the base stays int64, so the bytes are unchanged). */
static const struct {
  const char *name;
  pd_codes kind;
} pd_field_codes[] = {{"/spectral/grid/method", PD_CODES_METHOD}};

hid_t pd_h5meta_text(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

hid_t pd_h5meta_enum(pd_codes kind, hid_t base) {
  if (kind < 0 || kind >= PD_CODES_COUNT) return -1;
  const pd_h5_code *c = pd_code_kinds[kind].codes;
  hid_t t = H5Tenum_create(base);
  if (t < 0) return -1;
  const int narrow = H5Tget_size(base) == 1;
  for (size_t i = 0; i < pd_code_kinds[kind].n; i++) {
    int8_t v8 = (int8_t)c[i].value;
    int64_t v64 = c[i].value;
    if (H5Tenum_insert(t, c[i].name, narrow ? (void *)&v8 : (void *)&v64) < 0) {
      H5Tclose(t);
      return -1;
    }
  }
  return t;
}

int pd_h5meta_field_codes(const char *name, pd_codes *kind) {
  for (size_t i = 0; i < PD_COUNT(pd_field_codes); i++)
    if (strcmp(pd_field_codes[i].name, name) == 0) {
      *kind = pd_field_codes[i].kind;
      return 1;
    }
  return 0;
}

/* ---- dimensions and units ------------------------------------------------ */

/* The labels of the dimensions after [P, W, S] of the per-run datasets,
 * by name: the first pattern that matches wins (fnmatch without
 * FNM_PATHNAME: '*' also matches '/'). */
static const struct {
  const char *pattern, *dim3, *dim4;
} pd_trailing_dims[] = {{"/history/ladder_*", "level", NULL},
                        {"/history/*", "record", NULL},
                        {"/features/*", "neuron", NULL},
                        {"/condensation/cosine*", "neuron", "neuron"},
                        {"/condensation/amplitude*", "neuron", NULL},
                        {"/condensation/*", "snapshot", NULL},
                        {"/snapshots/*", "snapshot", NULL},
                        {"/spectral/filter/delta", "filter", NULL},
                        {"/spectral/filter/converged_step_*", "filter", NULL},
                        {"/spectral/filter/e_*", "snapshot", "filter"},
                        {"/spectral/grid/bytes", "method", NULL},
                        {"/spectral/grid/rel_error", "snapshot", "shell"},
                        {"/spectral/grid/*", "shell", NULL},
                        {"/spectral/*/delta", "snapshot", "peak"},
                        {"/spectral/*", "peak", NULL},
                        {"/ntk/eigenvalues_*", "component", NULL},
                        {"/ntk/projection*", "snapshot", "component"},
                        {"/ntk/loss_linear", "snapshot", NULL},
                        {"/ntk/test_*", "test_point", NULL},
                        {"/test/*", "test_point", NULL}};

/* The dimensions of the training and test sets. */
static const struct {
  const char *name, *dim0, *dim1;
} pd_data_dims[] = {{"/data/x", "sample", "input"},
                    {"/data/y", "sample", NULL},
                    {"/data/x_test", "test_point", "input"},
                    {"/data/y_test", "test_point", NULL}};

/* Units, where a dataset has any ("1": a dimensionless quantity that a
 * reader could take for a physical one). */
static const struct {
  const char *pattern, *units;
} pd_units[] = {{"/runs/seconds", "s"},
                {"/snapshots/seconds", "s"},
                {"/runs/t_star", "1"},
                {"/history/time", "1"},
                {"/history/ladder_time", "1"},
                {"/snapshots/time", "1"},
                {"/spectral/grid/bytes", "B"},
                {"/spectral/*/frequency", "cycles per period"}};

const char *pd_h5meta_units(const char *name) {
  for (size_t i = 0; i < PD_COUNT(pd_units); i++)
    if (fnmatch(pd_units[i].pattern, name, 0) == 0) return pd_units[i].units;
  return NULL;
}

int pd_h5meta_data_dims(const char *name, const char **dim0,
                        const char **dim1) {
  for (size_t i = 0; i < PD_COUNT(pd_data_dims); i++)
    if (strcmp(pd_data_dims[i].name, name) == 0) {
      *dim0 = pd_data_dims[i].dim0;
      *dim1 = pd_data_dims[i].dim1;
      return 1;
    }
  return 0;
}

int pd_h5meta_trailing_dims(const char *name, const char **dim3,
                            const char **dim4) {
  for (size_t i = 0; i < PD_COUNT(pd_trailing_dims); i++)
    if (fnmatch(pd_trailing_dims[i].pattern, name, 0) == 0) {
      *dim3 = pd_trailing_dims[i].dim3;
      *dim4 = pd_trailing_dims[i].dim4;
      return 1;
    }
  return 0;
}
