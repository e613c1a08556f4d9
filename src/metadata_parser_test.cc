#include <doctest/doctest.h>

#include "metadata_parser.h"
