/* The orientation clusters of the condense observer on constructed
 * directions: known counts, u and -u apart, the amplitude cut, ties and
 * degenerate inputs; the cosine matrix against its definition; and the
 * zhou2022 data set against its formula. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/job/config.h"
#include "phasediag/job/dataset.h"
#include "phasediag/observe/obs_condense.h"

enum { D = 3, D1 = D + 1, NMAX = 64 };

/* neuron k: a_k = amp / |dir|, w_k = dir rotated off by a small angle eps
 * in a fixed orthogonal direction, so |a_k| |w_k| = amp */
static void put(double *a, double *w, int k, const double *dir, double amp,
                double eps) {
  double n = 0;
  for (int j = 0; j < D1; j++) n += dir[j] * dir[j];
  n = sqrt(n);
  double v[D1];
  for (int j = 0; j < D1; j++) v[j] = dir[j] / n;
  /* a unit vector orthogonal to v (v has a nonzero entry somewhere) */
  double o[D1] = {0};
  int jmax = 0;
  for (int j = 1; j < D1; j++)
    if (fabs(v[j]) > fabs(v[jmax])) jmax = j;
  int jo = (jmax + 1) % D1;
  o[jo] = v[jmax];
  o[jmax] = -v[jo];
  double on = sqrt(o[jo] * o[jo] + o[jmax] * o[jmax]);
  for (int j = 0; j < D1; j++) o[j] /= on;
  double scale = 0.5 + 0.1 * k; /* |w| varies, the amplitude does not */
  double u2 = 0;
  for (int j = 0; j < D1; j++) {
    w[k * D1 + j] = scale * (cos(eps) * v[j] + sin(eps) * o[j]);
    u2 += w[k * D1 + j] * w[k * D1 + j];
  }
  a[k] = (k % 2 ? -1 : 1) * amp / sqrt(u2);
}

static void count(int64_t F, const double *a, const double *w, double thr,
                  double cut, int64_t *nc, int64_t *ns, double *eff) {
  PD_TEST_OK(pd_orientation_clusters(F, D, a, w, thr, cut, nc, ns, eff));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  double a[NMAX], w[NMAX * D1];
  int64_t nc, ns;
  double eff;
  const double e0[D1] = {1, 0, 0, 0}, e1[D1] = {0, 1, 0, 0},
               m0[D1] = {-1, 0, 0, 0}, me1[D1] = {0, -1, 0, 0};

  /* two groups of 10 neurons, each spread by < 5 degrees around +e0 and
   * around -e0 (antipodal): two clusters, not one */
  for (int k = 0; k < 20; k++)
    put(a, w, k, k < 10 ? e0 : m0, 1.0, 0.08 * (k % 10) / 10.0);
  count(20, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 2 && ns == 20, "antipodal: %lld clusters, %lld",
                (long long)nc, (long long)ns);
  PD_TEST_CHECK(fabs(eff - 2.0) < 1e-12, "antipodal: effective %g", eff);

  /* four orientations +-e0, +-e1 (xtanh's 2p = 4), 8 neurons each */
  for (int k = 0; k < 32; k++) {
    const double *dirs[4] = {e0, m0, e1, me1};
    put(a, w, k, dirs[k / 8], 1.0 + 0.01 * k, 0.05 * (k % 8) / 8.0);
  }
  count(32, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 4 && ns == 32, "four: %lld clusters", (long long)nc);

  /* the amplitude cut: 5 heavy neurons on e0, 15 light ones (1% of the
   * largest) spread over other directions: cut 0.1 sees 1 cluster of 5,
   * cut 0.001 sees them all */
  for (int k = 0; k < 20; k++) {
    double d[D1] = {cos(0.4 * k), sin(0.4 * k), 0.3 * (k % 3), -0.5};
    put(a, w, k, d, 0.02, 0);
  }
  for (int k = 0; k < 5; k++) { /* exact: amplitude 2 */
    a[k] = 2;
    memcpy(w + k * D1, e0, sizeof e0);
  }
  count(20, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 1 && ns == 5, "cut 0.1: %lld clusters of %lld",
                (long long)nc, (long long)ns);
  count(20, a, w, 0.99, 0.001, &nc, &ns, &eff);
  PD_TEST_CHECK(nc > 10 && ns == 20, "cut 0.001: %lld clusters of %lld",
                (long long)nc, (long long)ns);
  /* a neuron at exactly the cut (0.1 x 2 = 0.2, exact) counts */
  a[19] = -0.2;
  memcpy(w + 19 * D1, e1, sizeof e1);
  count(20, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(ns == 6 && nc == 2, "at the cut: %lld of %lld", (long long)nc,
                (long long)ns);
  a[19] = -0.19999999999999998;
  count(20, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(ns == 5 && nc == 1, "below the cut: %lld of %lld",
                (long long)nc, (long long)ns);

  /* the threshold: 3 directions at 0, 20 and 40 degrees in one plane are 3
   * clusters at cos 0.99, and 2 at cos 0.9 (cos 20 deg = 0.94: the first
   * leads, the second joins it, the third is 40 degrees from the leader) */
  for (int k = 0; k < 3; k++) {
    const double t = k * 20.0 * 3.14159265358979323846 / 180.0;
    double d[D1] = {cos(t), sin(t), 0, 0};
    put(a, w, k, d, 3.0 - k, 0);
  }
  count(3, a, w, 0.99, 0.01, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 3, "threshold 0.99: %lld", (long long)nc);
  count(3, a, w, 0.9, 0.01, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 2, "threshold 0.9: %lld", (long long)nc);

  /* the order of the neurons does not matter, only their amplitudes (ties
   * by index): reversed input, same counts */
  double ar[3], wr[3 * D1];
  for (int k = 0; k < 3; k++) {
    ar[k] = a[2 - k];
    memcpy(wr + k * D1, w + (2 - k) * D1, sizeof(double) * D1);
  }
  int64_t nc2, ns2;
  double eff2, eff1;
  count(3, a, w, 0.9, 0.01, &nc, &ns, &eff1);
  count(3, ar, wr, 0.9, 0.01, &nc2, &ns2, &eff2);
  PD_TEST_CHECK(nc == nc2 && ns == ns2 && eff1 == eff2, "order: %lld %lld",
                (long long)nc, (long long)nc2);

  /* degenerate: nothing sampled, every amplitude zero */
  count(0, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 0 && ns == 0 && isnan(eff), "F = 0");
  for (int k = 0; k < 4; k++) a[k] = 0;
  count(4, a, w, 0.99, 0.1, &nc, &ns, &eff);
  PD_TEST_CHECK(nc == 0 && ns == 0 && isnan(eff), "zero amplitudes");

  /* the cosine matrix: symmetric, 1 on the diagonal, the definition */
  for (int k = 0; k < 6; k++) {
    double d[D1] = {cos(k), sin(k), 0.1 * k, k % 2 ? -1 : 1};
    put(a, w, k, d, 1.0 + k, 0);
  }
  double C[36], amp[6];
  pd_cosine_matrix(6, D, a, w, C, amp);
  double worst = 0;
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++) {
      double s = 0, ni = 0, nj = 0;
      for (int q = 0; q < D1; q++) {
        s += w[i * D1 + q] * w[j * D1 + q];
        ni += w[i * D1 + q] * w[i * D1 + q];
        nj += w[j * D1 + q] * w[j * D1 + q];
      }
      double want = s / sqrt(ni * nj), err = fabs(C[i * 6 + j] - want);
      if (err > worst) worst = err;
      PD_TEST_CHECK(C[i * 6 + j] == C[j * 6 + i], "symmetric %d %d", i, j);
    }
  PD_TEST_CHECK(worst < 1e-15, "cosine off by %g", worst);
  for (int i = 0; i < 6; i++)
    PD_TEST_CHECK(
        fabs(C[i * 7] - 1) < 1e-15 && fabs(amp[i] - (1.0 + i)) < 1e-12,
        "diagonal %d: %g, amplitude %g", i, C[i * 7], amp[i]);

  /* zhou2022: the defaults (80 points in d = 5), the box [-4, 2] and the
   * target y = sum_j 3.5 sin(5 x_j + 1) */
  pd_data *z = NULL;
  PD_TEST_OK(pd_dataset_builtin("zhou2022", 0, 0, 1, &z));
  PD_TEST_CHECK(z->n == 80 && z->d == 5, "zhou2022: n %lld d %d",
                (long long)z->n, z->d);
  double lo = 1e9, hi = -1e9, ybad = 0;
  for (int64_t i = 0; i < z->n; i++) {
    double y = 0;
    for (int j = 0; j < z->d; j++) {
      double x = z->x[i * z->d + j];
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
      y += 3.5 * sin(5 * x + 1);
    }
    ybad = fmax(ybad, fabs(y - z->y[i]));
  }
  PD_TEST_CHECK(lo >= -4 && hi <= 2 && lo < -3.5 && hi > 1.5 && ybad == 0,
                "zhou2022: x in [%g, %g], y off by %g", lo, hi, ybad);
  pd_data_destroy(&z);
  /* the job-file keys: track takes the snapshot count without [spectral]
   * on; the defaults */
  pd_config c;
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[data]\nbuiltin = zhou2022\n[grid]\nwidths = "
                             "100, 1000\nschemes = ntk\n[features]\ntrack = "
                             "true\n[spectral]\nsnapshots = 10\n",
                             &c));
  PD_TEST_CHECK(
      c.feature_track == 1 && c.train.snapshots == 10 &&
          c.feature_amp_cut == 0.1 && c.feature_matrix == 32 && c.n == 80 &&
          c.d == 5,
      "config: track %d snapshots %d amp_cut %g matrix %d n %lld d %d",
      c.feature_track, c.train.snapshots, c.feature_amp_cut, c.feature_matrix,
      (long long)c.n, c.d);
  return pd_test_end("test_condense");
}
