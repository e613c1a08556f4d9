#include <doctest/doctest.h>

#include "metrics.h"
