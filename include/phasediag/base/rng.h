/* Counter-based random numbers (Random123 Philox-4x64-10).
 *
 * A value is a pure function of (seed, task, index, param): key = (seed,
 * task), counter = (index, param).  Every neuron's initial parameters are
 * therefore the same whatever the rank count, and theta(0) can be regenerated
 * at any time instead of being stored. */
#ifndef PHASEDIAG_RNG_H
#define PHASEDIAG_RNG_H

#include <stdint.h>

/* Standard normal variate N(0, 1). */
double pd_rng_normal(uint64_t seed, uint64_t task, uint64_t index,
                     uint64_t param);

/* Uniform variate in the open interval (0, 1). */
double pd_rng_uniform(uint64_t seed, uint64_t task, uint64_t index,
                      uint64_t param);

#endif
