#!/bin/bash
# The soak under valgrind, a few hundred cycles: zero bytes definitely lost.
exec bash "$(dirname "$0")/soak.sh" --valgrind "${SOAK_VALGRIND_CYCLES:-300}"
