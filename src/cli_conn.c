/* placeholder until the commands land */
#include "cli.h"
