/* placeholder: being written */
#include "phasediag/dataset.h"
