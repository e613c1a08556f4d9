#include <doctest/doctest.h>

#include "options.h"
