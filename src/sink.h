// sink: where a cycle's metrics go. The contract is the two calls below and
// their arguments; a sink keeps no hidden per-call state. Each sink renders
// the set itself, since each adds its own labels (the textfile adds the task
// identity; the Pushgateway gets it from the grouping key).
#pragma once

#include <string>
#include <string_view>

#include "duration.h"
#include "metadata_source.h"
#include "metrics.h"
#include "model.h"

namespace emp {

// Everything one delivery needs.
struct Delivery {
  const MetricSet& set;
  // May be unknown (never fetched yet): a sink that needs it fails with a clear cause.
  const TaskIdentity& identity;
  // This cycle's metadata read succeeded. When false the set holds only the
  // exporter's own series (`success 0`): a sink keeps the last good task and
  // container series rather than replace them with nothing.
  bool metadata_ok;
  // The call returns by then, retries included (the next cycle is due, or
  // the shutdown budget ends).
  SteadyTime deadline;
  // This cycle's raw /task and /task/stats bodies, for a sink that shows them
  // as they came (the scrape endpoint's /task and /stats). nullptr when the
  // read failed or the buffers were already given back (an unusually large body).
  const MetadataBodies* bodies = nullptr;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Short name for logs and the `sink` label: "textfile", "pushgateway".
  virtual std::string_view name() const = 0;
  // Delivers one cycle. Returns false with a one-line cause in `error`.
  virtual bool deliver(const Delivery& delivery, std::string& error) = 0;
  // Removes what this sink published for `identity` (shutdown, identity
  // change), by `deadline`. Nothing published is not an error.
  virtual bool remove(const TaskIdentity& identity, SteadyTime deadline, std::string& error) = 0;
  // Adds the sink's own exporter series (labels: none but its own) to the
  // set of the cycle being built; most sinks have none.
  virtual void add_own_metrics(MetricSet&) const {}
};

}  // namespace emp
