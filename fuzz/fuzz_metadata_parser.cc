// libFuzzer entry for emp::fuzz::metadata_parser (fuzz/targets.h); see fuzz/run.sh.
#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return emp::fuzz::metadata_parser(data, size);
}
