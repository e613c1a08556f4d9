#include "scrape_sink.h"

#include <utility>

#include "gzip.h"
#include "log.h"
#include "text_format.h"

namespace emp {

void ScrapeState::publish(std::shared_ptr<const ScrapeSnapshot> snapshot) {
  const bool ok = snapshot && snapshot->metadata_ok;
  std::shared_ptr<const ScrapeSnapshot> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    old = std::exchange(snapshot_, std::move(snapshot));
  }
  // `old` is freed here, outside the lock (or by the last scrape holding it).
  if (ok) ready_.store(true, std::memory_order_release);
}

std::shared_ptr<const ScrapeSnapshot> ScrapeState::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

namespace {

class ScrapeSink final : public Sink {
 public:
  ScrapeSink(std::shared_ptr<ScrapeState> state, bool keep_bodies)
      : state_(std::move(state)), keep_bodies_(keep_bodies) {}

  std::string_view name() const override { return "scrape"; }

  bool deliver(const Delivery& delivery, std::string& error) override {
    auto snapshot = std::make_shared<ScrapeSnapshot>();
    // Nothing adds the task identity for us (no grouping key, no file name):
    // the series carry it, as the original exporter's did.
    identity_labels(delivery.identity, container_extra_, exporter_extra_);
    render_text(delivery.set, ExtraLabels{container_extra_, exporter_extra_}, snapshot->text);
    std::string gzip_error;
    if (!gzip_.compress(snapshot->text, snapshot->gzipped, gzip_error)) {
      snapshot->gzipped.clear();
      log::warn("scrape endpoint: serving uncompressed", {{"err", gzip_error}});
    }
    snapshot->metadata_ok = delivery.metadata_ok;
    if (keep_bodies_) {
      if (delivery.bodies) {
        snapshot->task_body = delivery.bodies->task.view();
        snapshot->stats_body = delivery.bodies->stats.view();
      } else if (auto last = state_->current()) {  // a failed read: keep showing the last good bodies
        snapshot->task_body = last->task_body;
        snapshot->stats_body = last->stats_body;
      }
    }
    state_->publish(std::move(snapshot));
    (void)error;
    return true;
  }

  // The page is replaced whole by the next delivery, and goes with the
  // process: nothing outlives it that could need removing.
  bool remove(const TaskIdentity&, SteadyTime, std::string&) override { return true; }

 private:
  std::shared_ptr<ScrapeState> state_;
  bool keep_bodies_;
  Gzip gzip_;
  std::string container_extra_;
  std::string exporter_extra_;
};

}  // namespace

std::unique_ptr<Sink> make_scrape_sink(std::shared_ptr<ScrapeState> state, bool keep_bodies) {
  return std::make_unique<ScrapeSink>(std::move(state), keep_bodies);
}

}  // namespace emp
