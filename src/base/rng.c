#include "phasediag/base/rng.h"

#include <math.h>

#include <Random123/philox.h>

static philox4x64_ctr_t pd_rng_block(uint64_t seed, uint64_t task,
                                     uint64_t index, uint64_t param) {
  philox4x64_ctr_t ctr = {{index, param, 0, 0}};
  philox4x64_key_t key = {{seed, task}};
  return philox4x64_R(10, ctr, key);
}

/* 53 random bits to (0, 1): never 0, so log() below is finite */
static double pd_u01(uint64_t x) { return ((double)(x >> 11) + 0.5) * 0x1p-53; }

double pd_rng_uniform(uint64_t seed, uint64_t task, uint64_t index,
                      uint64_t param) {
  return pd_u01(pd_rng_block(seed, task, index, param).v[0]);
}

double pd_rng_normal(uint64_t seed, uint64_t task, uint64_t index,
                     uint64_t param) {
  philox4x64_ctr_t r = pd_rng_block(seed, task, index, param);
  double u1 = pd_u01(r.v[0]), u2 = pd_u01(r.v[1]);
  /* Box-Muller, 2*pi*u2 computed as a fraction of a turn */
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
