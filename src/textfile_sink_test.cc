#include <doctest/doctest.h>

#include "textfile_sink.h"
