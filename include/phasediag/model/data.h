/* A training set, replicated on every rank: x is n x d row-major, y has n. */
#ifndef PHASEDIAG_DATA_H
#define PHASEDIAG_DATA_H

#include <stdint.h>

typedef struct {
  int64_t n; /* samples */
  int d;     /* input dimension */
  double *x; /* n*d, row-major, 64-byte aligned */
  double *y; /* n */
} pd_data;

/* Allocate a zeroed data set of n samples in dimension d (local). */
int pd_data_create(int64_t n, int d, pd_data **data);
void pd_data_destroy(pd_data **data);

/* The 1-D data of the JMLR paper: x = -1/2, -1/6, 1/6, 1/2 and y = x^2. */
int pd_data_paper1d(pd_data **data);

#endif
