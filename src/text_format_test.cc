#include <doctest/doctest.h>

#include "text_format.h"
