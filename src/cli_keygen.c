/* placeholder until the command lands */
#include "cli.h"
