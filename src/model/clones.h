/* PD_CLONES: a portable loop that is also compiled for x86-64-v3 and
 * picked at load time (GCC's target_clones): there fma() is one
 * instruction instead of a call into libm, and with fma() and a fixed
 * order both versions give the same bits.  Private to src/model. */
#ifndef PHASEDIAG_CLONES_H
#define PHASEDIAG_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(PD_NATIVE)
#define PD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PD_CLONES
#endif

#endif
