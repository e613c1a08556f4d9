#include "pushgateway_sink.h"

namespace emp {

// Placeholder until the Pushgateway sink lands (issue 3).
std::unique_ptr<Sink> make_pushgateway_sink(const Options&, std::string& error) {
  error = "the Pushgateway sink is not implemented yet";
  return nullptr;
}

}  // namespace emp
