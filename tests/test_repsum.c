/* Reproducible sums: exact on hard cases, independent of order and of how
 * the terms are spread over ranks. */
#include <float.h>
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/repsum.h"
#include "phasediag/base/rng.h"

static double sum_of(const double *x, int n, const int *order) {
  pd_acc a;
  pd_acc_zero(&a, 1);
  for (int i = 0; i < n; i++) pd_acc_add(&a, x[order ? order[i] : i]);
  return pd_acc_value(&a);
}

static int same_bits(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0;
}

/* terms of wildly different magnitude and sign */
static double term(int i) {
  double u = pd_rng_uniform(7, 0, (uint64_t)i, 0);
  double e = pd_rng_uniform(7, 0, (uint64_t)i, 1);
  double s = pd_rng_uniform(7, 0, (uint64_t)i, 2) < 0.5 ? -1 : 1;
  return s * u * ldexp(1.0, (int)(e * 200) - 100);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  double c1[] = {1e100, 1.0, -1e100};
  PD_TEST_CHECK(sum_of(c1, 3, NULL) == 1.0, "cancellation gave %g",
                sum_of(c1, 3, NULL));
  double c2[] = {DBL_MAX, DBL_MAX, -DBL_MAX};
  PD_TEST_CHECK(sum_of(c2, 3, NULL) == DBL_MAX, "overflowing partial sum");
  double c3[] = {4.9406564584124654e-324, 4.9406564584124654e-324,
                 4.9406564584124654e-324};
  PD_TEST_CHECK(sum_of(c3, 3, NULL) == 3 * 4.9406564584124654e-324,
                "subnormals");
  double c4[] = {-1.5, 0.25};
  PD_TEST_CHECK(sum_of(c4, 2, NULL) == -1.25, "negative sum %g",
                sum_of(c4, 2, NULL));
  double c5[] = {1.0, NAN, 2.0};
  PD_TEST_CHECK(isnan(sum_of(c5, 3, NULL)), "NaN must propagate");
  double c6[] = {1.0, INFINITY};
  PD_TEST_CHECK(isnan(sum_of(c6, 2, NULL)), "Inf reads back as NaN");
  double c7[] = {0.0, -0.0};
  PD_TEST_CHECK(sum_of(c7, 2, NULL) == 0.0, "zeros");
  /* 2^53 + 1 + 1 is 2^53 + 2 exactly, unlike naive left-to-right summation */
  double c8[] = {9007199254740992.0, 1.0, 1.0};
  PD_TEST_CHECK(sum_of(c8, 3, NULL) == 9007199254740994.0, "ulp-level terms");

  /* order independence and accuracy on 20000 wide-range terms */
  enum { N = 20000 };
  static double x[N];
  static int perm[N];
  long double ref = 0; /* extended-precision reference, sorted by size */
  for (int i = 0; i < N; i++) {
    x[i] = term(i);
    perm[i] = N - 1 - i;
  }
  double fwd = sum_of(x, N, NULL), rev = sum_of(x, N, perm);
  for (int i = N - 1; i > 0; i--) { /* Fisher-Yates with Philox */
    int j = (int)(pd_rng_uniform(9, 0, (uint64_t)i, 0) * (i + 1));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  double shuf = sum_of(x, N, perm);
  PD_TEST_CHECK(same_bits(fwd, rev) && same_bits(fwd, shuf),
                "order changed the bits: %.17g %.17g %.17g", fwd, rev, shuf);
  {
    /* Kahan-Babuska in long double as an independent reference */
    long double s = 0, comp = 0;
    for (int i = 0; i < N; i++) {
      long double t = s + x[i];
      if (fabsl(s) >= fabsl((long double)x[i]))
        comp += (s - t) + x[i];
      else
        comp += ((long double)x[i] - t) + s;
      s = t;
    }
    ref = s + comp;
  }
  PD_TEST_CHECK(pd_test_rel(fwd, (double)ref) < 1e-15,
                "sum %.17g vs reference %.17Lg", fwd, ref);

  /* distributed: rank r takes the terms i % size == r; the allreduced sum
   * has the bits of the serial one */
  pd_acc acc[2];
  pd_acc_zero(acc, 2);
  for (int i = rank; i < N; i += size) {
    pd_acc_add(&acc[0], x[i]);
    pd_acc_add(&acc[1], -2.0 * x[i]);
  }
  PD_TEST_OK(pd_acc_allreduce(acc, 2, MPI_COMM_WORLD));
  double dist = pd_acc_value(&acc[0]);
  PD_TEST_CHECK(same_bits(dist, fwd), "distributed %.17g vs serial %.17g", dist,
                fwd);
  PD_TEST_CHECK(same_bits(pd_acc_value(&acc[1]), -2.0 * fwd),
                "second accumulator");

  /* pd_repsum: every rank contributes rank + 0.5 */
  double mine = rank + 0.5, tot = 0;
  PD_TEST_OK(pd_repsum(&mine, &tot, 1, MPI_COMM_WORLD));
  PD_TEST_CHECK(tot == size * (size - 1) / 2.0 + 0.5 * size, "pd_repsum %g",
                tot);

  /* many additions force internal renormalization; the value stays exact */
  pd_acc big;
  pd_acc_zero(&big, 1);
  for (long i = 0; i < (1L << 21); i++) pd_acc_add(&big, 0.75);
  PD_TEST_CHECK(pd_acc_value(&big) == 0.75 * (1L << 21), "long run %.17g",
                pd_acc_value(&big));
  return pd_test_end("test_repsum");
}
