/* The spectral observer: the F-Principle measures of one run
 * (spectral.h) at the trainer's snapshots, and their verdict.
 *
 * Its block: the verdict (Spearman rho of frequency against convergence
 * step; > 0: low frequencies first), then the spectral block of
 * pd_spectral_layout (L->sp). */
#ifndef PHASEDIAG_OBS_SPECTRAL_H
#define PHASEDIAG_OBS_SPECTRAL_H

#include "phasediag/observe/observer.h"

extern const pd_observer_type pd_obs_spectral_type;

#endif
