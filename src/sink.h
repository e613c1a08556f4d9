// sink: where a cycle's metrics go. Each sink renders the set itself, since
// each adds its own labels (the textfile adds the task identity; the
// Pushgateway gets it from the grouping key).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "metrics.h"
#include "model.h"

namespace emp {

class Sink {
 public:
  virtual ~Sink() = default;
  // Short name for logs and the `sink` label: "textfile", "pushgateway".
  virtual std::string_view name() const = 0;
  // Delivers one cycle. `identity` may be unknown (never fetched yet): a sink
  // that needs it fails with a clear cause. Returns false with a one-line cause.
  virtual bool deliver(const MetricSet& set, const TaskIdentity& identity, std::string& error) = 0;
  // Shutdown with --delete-on-exit: remove what this sink published.
  virtual bool remove(const TaskIdentity& identity, std::string& error) = 0;
  // The next deliver() or remove() must return by `deadline`, retries included
  // (e.g. before the next cycle is due). Without it a sink uses its own budget.
  virtual void set_deadline(std::chrono::steady_clock::time_point deadline) { (void)deadline; }
};

}  // namespace emp
