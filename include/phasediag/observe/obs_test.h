/* The test observer: the trained network on the job's test set, and the
 * sign accuracy on both sets where every target is +1 or -1 (a classifier's
 * accuracy; NaN for a regression target).
 *
 * Its block (with a test set of M points): test loss 1/(2M) |f - y|^2,
 * relative test error |f - y| / |y|, test and training sign accuracy, then
 * the outputs at the test points [M]. */
#ifndef PHASEDIAG_OBS_TEST_H
#define PHASEDIAG_OBS_TEST_H

#include "phasediag/observe/observer.h"

extern const pd_observer_type pd_obs_test_type;

#endif
