// libFuzzer entry for emp::fuzz::retry_after (fuzz/targets.h); see fuzz/run.sh.
#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return emp::fuzz::retry_after(data, size); }
