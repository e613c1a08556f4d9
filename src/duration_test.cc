#include <doctest/doctest.h>

#include "duration.h"
