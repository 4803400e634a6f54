#include "phasediag/model/data.h"

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

int pd_data_create(int64_t n, int d, pd_data **data) {
  *data = NULL;
  PD_CHECK(n >= 1, PD_ERR_ARG,
           "a data set needs at least one sample (n = %lld)", (long long)n);
  PD_CHECK(d >= 1, PD_ERR_ARG, "input dimension %d must be >= 1", d);
  PD_CHECK((uint64_t)n <= SIZE_MAX / (size_t)d, PD_ERR_ARG,
           "data set of %lld x %d is too large", (long long)n, d);
  pd_data *s = NULL;
  PD_CALL(pd_calloc(1, sizeof *s, &s));
  s->n = n;
  s->d = d;
  int err = pd_calloc((size_t)n * (size_t)d, sizeof(double), &s->x);
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &s->y);
  if (err != PD_OK) {
    pd_data_destroy(&s);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "pd_calloc");
  }
  *data = s;
  return PD_OK;
}

void pd_data_destroy(pd_data **data) {
  if (!data || !*data) return;
  pd_free(&(*data)->x);
  pd_free(&(*data)->y);
  pd_free(data);
}

int pd_data_paper1d(pd_data **data) {
  PD_CALL(pd_data_create(4, 1, data));
  static const double xs[4] = {-0.5, -1.0 / 6.0, 1.0 / 6.0, 0.5};
  for (int i = 0; i < 4; i++) {
    (*data)->x[i] = xs[i];
    (*data)->y[i] = xs[i] * xs[i];
  }
  return PD_OK;
}
