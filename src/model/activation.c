#include "phasediag/model/activation.h"

#include <stdio.h>
#include <string.h>

#include "model/activation_defs.h"
#include "phasediag/base/error.h"

/* Out-of-line scalar forms for the table's function pointers. */
#define PD_ACT_FNS_(name, ...)                    \
  static double pd_##name##_sigma_fn(double z) {  \
    return pd_##name##_sigma(z);                  \
  }                                               \
  static double pd_##name##_dsigma_fn(double z) { \
    return pd_##name##_dsigma(z);                 \
  }
PD_ACTIVATIONS(PD_ACT_FNS_, ~)

/* The registry: entry i is the activation with id i (both in list order). */
#define PD_ACT_ENTRY_(act, p, closed, ...) \
  {.name = #act,                           \
   .sigma = pd_##act##_sigma_fn,           \
   .dsigma = pd_##act##_dsigma_fn,         \
   .multiplicity = (p),                    \
   .closed_form_ntk = (closed),            \
   .id = PD_ACT_##act},
static const pd_activation pd_activations[PD_ACT_COUNT] = {
    PD_ACTIVATIONS(PD_ACT_ENTRY_, ~)};

const pd_activation *pd_activation_default(void) {
  return &pd_activations[PD_ACT_relu];
}

const pd_activation *pd_activation_find(const char *name) {
  for (int i = 0; name && i < PD_ACT_COUNT; i++)
    if (strcmp(name, pd_activations[i].name) == 0) return &pd_activations[i];
  return NULL;
}

const pd_activation *pd_activation_list(int *count) {
  *count = PD_ACT_COUNT;
  return pd_activations;
}

/* "a, b or c": the names of the activations with closed_form_ntk >= need,
 * in registry order ("none" if there is none). */
static void pd_activation_names(int need, char *buf, size_t len) {
  int total = 0, seen = 0;
  for (int i = 0; i < PD_ACT_COUNT; i++)
    total += pd_activations[i].closed_form_ntk >= need;
  snprintf(buf, len, "%s", total ? "" : "none");
  for (int i = 0; i < PD_ACT_COUNT; i++) {
    if (pd_activations[i].closed_form_ntk < need) continue;
    const char *sep = seen == 0 ? "" : seen + 1 < total ? ", " : " or ";
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", sep, pd_activations[i].name);
    seen++;
  }
}

int pd_activation_lookup(const char *name, const pd_activation **act) {
  *act = pd_activation_find(name);
  if (*act) return PD_OK;
  char known[256];
  pd_activation_names(0, known, sizeof known);
  return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                        "unknown activation '%s' (known: %s)",
                        name ? name : "(null)", known);
}

int pd_activation_require_closed_form(const pd_activation *act,
                                      const char *what) {
  if (!act) act = pd_activation_default();
  if (act->closed_form_ntk) return PD_OK;
  char known[256];
  pd_activation_names(1, known, sizeof known);
  return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                        "the closed-form %s is known only for %s; activation "
                        "%s has none",
                        what, known, act->name);
}
