#include "phasediag/base/mem.h"

#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"

static long pd_fail_countdown;

void pd_mem_fail_after(long n) { pd_fail_countdown = n; }

int pd_calloc(size_t count, size_t size, void *pptr) {
  void **out = (void **)pptr;
  *out = NULL;
  PD_CHECK(size == 0 || count <= SIZE_MAX / size, PD_ERR_ALLOC,
           "allocation of %zu x %zu bytes overflows size_t", count, size);
  size_t bytes = count * size;
  if (bytes == 0) bytes = PD_ALIGN;
  /* round up so vector loops may touch the whole last cache line */
  PD_CHECK(bytes <= SIZE_MAX - PD_ALIGN, PD_ERR_ALLOC,
           "allocation of %zu bytes is too large", bytes);
  bytes = (bytes + PD_ALIGN - 1) / PD_ALIGN * PD_ALIGN;
  if (pd_fail_countdown > 0 && --pd_fail_countdown == 0) {
    return pd_error_raise(PD_ERR_ALLOC, __FILE__, __LINE__, __func__,
                          "cannot allocate %zu bytes (injected failure)",
                          bytes);
  }
  void *p = NULL;
  PD_CHECK(posix_memalign(&p, PD_ALIGN, bytes) == 0 && p, PD_ERR_ALLOC,
           "cannot allocate %zu bytes (%.3g GiB)", bytes,
           (double)bytes / 1073741824.0);
  memset(p, 0, bytes);
  *out = p;
  return PD_OK;
}

void pd_free(void *pptr) {
  void **p = (void **)pptr;
  if (p && *p) {
    free(*p);
    *p = NULL;
  }
}
