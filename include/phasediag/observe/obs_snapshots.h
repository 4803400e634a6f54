/* The snapshots observer: the rows every snapshot observer fills, one per
 * trainer snapshot (S = L->S rows: the marks, the start and the stop).
 *
 * Its block: rows filled, wall seconds in the observers, then step[S],
 * flow time[S] and loss[S] (NaN past the rows filled). */
#ifndef PHASEDIAG_OBS_SNAPSHOTS_H
#define PHASEDIAG_OBS_SNAPSHOTS_H

#include <stdint.h>

#include "phasediag/observe/observer.h"

extern const pd_observer_type pd_obs_snapshots_type;

/* Local: the snapshot steps of a record (rows filled into *rows), for the
 * observers whose measures refer to them; NULL when L has no snapshots. */
const double *pd_obs_snapshots_steps(const pd_layout *L, const double *rec,
                                     int64_t *rows);

#endif
