/* 64-byte aligned allocation with checked sizes and a failure hook for tests.
 */
#ifndef PHASEDIAG_MEM_H
#define PHASEDIAG_MEM_H

#include <stddef.h>
#include <stdint.h>

#define PD_ALIGN 64

/* Allocate count*size bytes, 64-byte aligned and zeroed, into *(void**)pptr.
 * Fails with PD_ERR_ALLOC (message gives the size) on overflow or when the
 * system refuses.  Local, not collective. */
int pd_calloc(size_t count, size_t size, void *pptr);

/* Free *(void**)pptr and set it to NULL; NULL is fine. */
void pd_free(void *pptr);

/* Test hook: the n-th allocation from now (1 = the next) fails; 0 disarms. */
void pd_mem_fail_after(long n);

#endif
