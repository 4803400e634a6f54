/* The spectral observer: the F-Principle measures of one run
 * (spectral.h) at the trainer's snapshots, and their verdict.
 *
 * Its block: the verdict (Spearman rho of frequency against convergence
 * step; above PD_FP_ORDERED_RHO: low frequencies first), then the spectral
 * block of pd_spectral_layout (L->sp). */
#ifndef PHASEDIAG_OBS_SPECTRAL_H
#define PHASEDIAG_OBS_SPECTRAL_H

#include "phasediag/observe/observer.h"

/* The rank correlation above which a run fitted its low frequencies first:
 * the progress line uses it, the file's description says it, and
 * pdsummary and the figures (analysis/) hold the same 0.5. */
#define PD_FP_ORDERED_RHO 0.5

extern const pd_observer_type pd_obs_spectral_type;

#endif
