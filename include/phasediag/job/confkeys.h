/* The job-file keys: one descriptor per key, in one table (confkeys.c).
 *
 * A descriptor holds the key's section and name, its type, its range (with
 * open or closed ends), its default, one line of documentation and the
 * field of pd_config its value goes to.  The table drives
 *   - the defaults: pd_config_defaults, pd_train_options_default;
 *   - the parser: the section and key names, and how a value is read and
 *     what it must be (conftext.c reads one value by its descriptor);
 *   - the range checks, written once: a job file's values as they are read,
 *     and training options set by code (pd_train_options_check);
 *   - `phasediag --help-config` (conftext.c): the key table as Markdown,
 *     which is the README's table of job file keys.
 * Checks across keys (a key that does not apply to the data source, odd
 * widths with asi, ...) stay in config.c. */
#ifndef PHASEDIAG_CONFKEYS_H
#define PHASEDIAG_CONFKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/train/train.h"

enum {
  PD_S_DATA,
  PD_S_GRID,
  PD_S_MODEL,
  PD_S_TRAIN,
  PD_S_CLASSIFY,
  PD_S_FEATURES,
  PD_S_SPECTRAL,
  PD_S_NTK,
  PD_S_RUN,
  PD_S_OUTPUT,
  PD_S_COUNT
};

/* The keys, in the order of the documentation (and of the "expected ..."
 * lists of an unknown key's message). */
enum {
  PD_K_SOURCE,
  PD_K_BUILTIN,
  PD_K_N,
  PD_K_D,
  PD_K_DATA_SEED,
  PD_K_DATA_FILE,
  PD_K_X_DATASET,
  PD_K_Y_DATASET,
  PD_K_IMAGES,
  PD_K_LABELS,
  PD_K_FREQUENCIES,
  PD_K_SAMPLING,
  PD_K_TEST,
  PD_K_TEST_N,
  PD_K_GAMMA,
  PD_K_GAMMA_PRIME,
  PD_K_WIDTHS,
  PD_K_SEEDS,
  PD_K_SCHEMES,
  PD_K_ASI,
  PD_K_BASE_SCALE,
  PD_K_ACTIVATION,
  PD_K_SPAN,
  PD_K_TOL,
  PD_K_MAX_STEPS,
  PD_K_LR_CAP,
  PD_K_LR_GROW,
  PD_K_LR_SHRINK,
  PD_K_LAMBDA_EVERY,
  PD_K_POWER_ITERS,
  PD_K_MAX_REJECTS,
  PD_K_MAX_REL_STEP,
  PD_K_HISTORY_POINTS,
  PD_K_INTEGRATOR,
  PD_K_RTOL,
  PD_K_STATIONARY_TOL,
  PD_K_PLATEAU_STEPS,
  PD_K_BAND,
  PD_K_CAP,
  PD_K_COS_THRESHOLD,
  PD_K_TRACK,
  PD_K_AMP_CUT,
  PD_K_MATRIX,
  PD_K_SP_ENABLED,
  PD_K_SP_SNAPSHOTS,
  PD_K_SP_METHODS,
  PD_K_SP_PEAKS,
  PD_K_SP_PEAK_REL,
  PD_K_SP_MAX_FREQ,
  PD_K_SP_DELTA_TOL,
  PD_K_SP_DELTAS,
  PD_K_SP_GRID_N,
  PD_K_SP_GRID_METHOD,
  PD_K_NTK_ENABLED,
  PD_K_NTK_TOP,
  PD_K_NTK_RIDGE,
  PD_K_NTK_LFP,
  PD_K_GROUP_SIZE,
  PD_K_CHECKPOINT,
  PD_K_CHECKPOINT_INTERVAL,
  PD_K_OUTPUT_FILE,
  PD_K_OVERWRITE,
  PD_K_COUNT
};

typedef enum {
  PD_KT_INT,         /* an integer (1e4 accepted) -> int or int64_t */
  PD_KT_REAL,        /* a finite number -> double */
  PD_KT_BOOL,        /* true/false, yes/no, on/off, 1/0 -> int 1 or 0 */
  PD_KT_CHOICE,      /* one of the names -> int: first + its index */
  PD_KT_NAME,        /* one of the names -> the name, in a char array */
  PD_KT_PATH,        /* a path (one pair of quotes dropped) -> char array */
  PD_KT_INT_LIST,    /* comma list of distinct integers -> int64_t[] */
  PD_KT_REAL_LIST,   /* comma list of distinct numbers -> double[] */
  PD_KT_GRID_LIST,   /* REAL_LIST, or start:stop:step (stop included) */
  PD_KT_CHOICE_LIST, /* comma list of distinct names -> int[] */
  PD_KT_CHOICE_SET   /* comma list of distinct names -> bits 1 << index */
} pd_key_type;

#define PD_KEY_OPEN_LO 1       /* the range excludes lo */
#define PD_KEY_OPEN_HI 2       /* the range excludes hi */
#define PD_KEY_NOMAX INT64_MAX /* integers: no upper bound but the field's */

typedef struct {
  int section;      /* PD_S_* */
  const char *name; /* the key */
  pd_key_type type;
  size_t offset;      /* of the field in pd_config (lists: of the array) */
  size_t size;        /* of the field (lists: of one entry) */
  size_t count;       /* lists: offset of the int count of entries */
  int max_items;      /* lists: the array's entries (short lists: at most) */
  int64_t imin, imax; /* integers: [imin, imax] */
  double lo, hi;      /* numbers: from lo to hi, ends as in open */
  int open;           /* PD_KEY_OPEN_* */
  /* choices: the names (nnames of them), or name_of(first + i) */
  const char *const *names;
  const char *(*name_of)(int value);
  int first, nnames;
  /* the default: value (INT, REAL, BOOL, CHOICE: an index), text (NAME,
   * PATH) or list (def_n entries); shown, where given, is the documented
   * default instead of the value: automatic defaults kept as 0 or "" */
  double value;
  const char *text;
  const double *list;
  int def_n;
  const char *shown;
  const char *zero; /* what 0 means ("off"), where it is special */
  const char *unit; /* "seconds": "a number of seconds in ..." */
  const char *doc;  /* one line */
} pd_confkey;

/* The descriptor of key k (PD_K_*). */
const pd_confkey *pd_confkey_get(int k);
/* "data", "grid", ...; "?" for an unknown section. */
const char *pd_confkey_section(int s);
/* The section (PD_S_*) of that name, or -1. */
int pd_confkey_find_section(const char *name);
/* The key (PD_K_*) of that name in section s, or -1. */
int pd_confkey_find(int s, const char *name);

/* The i-th name of a choice key (NULL past the last). */
const char *pd_confkey_choice(const pd_confkey *k, int i);
/* The value a choice key stores for its i-th name. */
int pd_confkey_choice_value(const pd_confkey *k, int i);

/* The range checks: 1 if v (x) is a value key k accepts (integers: also
 * within its field). */
int pd_confkey_int_ok(const pd_confkey *k, int64_t v);
int pd_confkey_real_ok(const pd_confkey *k, double x);

/* The field of key k in cfg (lists: the array). */
void *pd_confkey_field(const pd_confkey *k, pd_config *cfg);
/* Store v into, or load it from, an integer key's field (or list entry) p:
 * an int or an int64_t by the key's size. */
void pd_confkey_store_int(const pd_confkey *k, void *p, int64_t v);
int64_t pd_confkey_load_int(const pd_confkey *k, const void *p);

/* Every key's default into cfg (the other bytes are left alone:
 * pd_config_defaults zeroes the struct first). */
void pd_confkeys_defaults(pd_config *cfg);
/* The defaults of the keys stored in pd_train_options ([train] and
 * [spectral] snapshots); the other fields are left alone. */
void pd_confkeys_train_defaults(pd_train_options *opt);

/* Every scalar key of cfg (int, real, bool, choice) holds a value the key
 * accepts or its default; PD_ERR_ARG naming the first that does not. */
int pd_confkeys_check(const pd_config *cfg);
/* The same for the keys stored in pd_train_options. */
int pd_confkeys_check_train(const pd_train_options *opt);

/* The table's own consistency (each default within its range, names
 * unique, fields inside pd_config): PD_ERR_ARG naming the first fault. */
int pd_confkeys_self_check(void);

#endif
