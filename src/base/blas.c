#include "phasediag/base/blas.h"

void openblas_set_num_threads(int threads) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));

int pd_blas_threads(void) {
  return openblas_get_num_threads && openblas_set_num_threads
             ? openblas_get_num_threads()
             : 0;
}

void pd_blas_set_threads(int n) {
  if (openblas_set_num_threads && openblas_get_num_threads && n >= 1)
    openblas_set_num_threads(n);
}
