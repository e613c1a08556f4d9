// sink: the scrape endpoint's page. Each cycle's set is rendered once, with
// the task identity as labels (as the original exporter served it), and
// swapped in as an immutable snapshot; scrapes only copy the latest one, so
// they never read the metadata endpoint and never wait for the loop (nor the
// loop for them). The HTTP side is web_server.h.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "sink.h"

namespace emp {

// What one scrape serves: the exposition, plain and gzip-compressed (the
// compression is done once per cycle, not per scrape), and the cycle's raw
// metadata bodies for /task and /stats (empty when not kept).
struct ScrapeSnapshot {
  std::string text;
  std::string gzipped;  // empty when compression failed: serve plain text
  std::string task_body;
  std::string stats_body;
  bool metadata_ok = false;
};

// Shared by the loop's thread (publish) and the server's (current).
class ScrapeState {
 public:
  void publish(std::shared_ptr<const ScrapeSnapshot> snapshot);
  // nullptr before the first cycle.
  std::shared_ptr<const ScrapeSnapshot> current() const;
  // After the first cycle whose metadata read succeeded (/-/ready).
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ScrapeSnapshot> snapshot_;
  std::atomic<bool> ready_{false};
};

// `keep_bodies`: copy the raw bodies into the snapshot (only with
// --web.enable-metadata-passthrough; they hold ARNs and image names).
std::unique_ptr<Sink> make_scrape_sink(std::shared_ptr<ScrapeState> state, bool keep_bodies);

}  // namespace emp
