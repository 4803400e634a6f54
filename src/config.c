/* placeholder: being written */
#include "phasediag/config.h"
