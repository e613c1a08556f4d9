#include <doctest/doctest.h>

#include "rfc3339.h"
