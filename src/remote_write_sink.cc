#include "remote_write_sink.h"

#include <snappy-c.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <deque>

#include <fmt/format.h>

#include "aws_credentials.h"
#include "grouping_key.h"
#include "log.h"
#include "protobuf_writer.h"
#include "pushgateway_sink.h"  // kIdentityLabelNames
#include "text_format.h"

namespace emp {

namespace remote_write {

void parse_label_block(std::string_view block, std::vector<std::pair<std::string, std::string>>& out) {
  size_t i = 0;
  while (i < block.size()) {
    const size_t eq = block.find("=\"", i);
    if (eq == std::string_view::npos) return;
    std::string name(block.substr(i, eq - i));
    std::string value;
    size_t j = eq + 2;
    for (; j < block.size() && block[j] != '"'; ++j) {
      if (block[j] == '\\' && j + 1 < block.size()) {
        ++j;
        value += block[j] == 'n' ? '\n' : block[j];
      } else {
        value += block[j];
      }
    }
    out.emplace_back(std::move(name), std::move(value));
    i = j + 1;  // past the closing quote
    if (i < block.size() && block[i] == ',') ++i;
  }
}

// Prometheus' value.StaleNaN: a NaN with its own payload, which a receiver
// stores as "this series ended here".
double stale_nan() { return std::bit_cast<double>(uint64_t{0x7ff0000000000002}); }
bool is_stale_nan(double v) { return std::bit_cast<uint64_t>(v) == 0x7ff0000000000002; }

}  // namespace remote_write

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Field numbers of prompb (remote.proto, types.proto).
enum : uint32_t {
  kWriteRequestTimeseries = 1,
  kWriteRequestMetadata = 3,
  kTimeSeriesLabels = 1,
  kTimeSeriesSamples = 2,
  kLabelName = 1,
  kLabelValue = 2,
  kSampleValue = 1,
  kSampleTimestamp = 2,
  kMetadataType = 1,
  kMetadataFamilyName = 2,
  kMetadataHelp = 4,
};
enum : int64_t { kMetadataCounter = 1, kMetadataGauge = 2 };

// One cycle's request, compressed, waiting for the receiver.
struct Pending {
  std::string body;
  size_t samples = 0;
};

class RemoteWriteSink final : public Sink {
 public:
  explicit RemoteWriteSink(const RemoteWriteOptions& o) : options_(o) {}

  bool init(std::string& error) {
    if (!check_static_labels(error)) return false;
    client_ = HttpClient::create(options_.http, error);
    if (!client_) return false;
    if (!options_.sigv4_region.empty()) {
      signer_ = AwsSigner::create(options_.sigv4_region, options_.sigv4_service, error);
      if (!signer_) return false;
    }
    capacity_ = options_.once
                    ? 1
                    : std::max<size_t>(1, static_cast<size_t>(options_.buffer.count() /
                                                              std::max<int64_t>(1, options_.interval.count())));
    const HttpClientOptions& h = options_.http;
    if (h.insecure_skip_verify && options_.url.starts_with("https://"))
      log::warn(
          "TLS certificate verification of the remote-write receiver is OFF (--remote-write.insecure-skip-verify)");
    if (options_.url.starts_with("http://") && (!h.password.empty() || !h.bearer_token.empty() || signer_))
      log::warn("remote-write credentials will be sent over plain http; use an https:// URL");
    return true;
  }

  std::string_view name() const override { return "remote_write"; }

  void add_own_metrics(MetricSet& set) const override {
    size_t pending = 0;
    for (const Pending& p : pending_) pending += p.samples;
    set.add(Metric::RemoteWritePendingSamples, 0, static_cast<double>(pending));
    set.add(Metric::RemoteWriteDroppedSamples, 0, static_cast<double>(dropped_));
    set.add(Metric::RemoteWriteRejectedSamples, 0, static_cast<double>(rejected_));
  }

  bool deliver(const Delivery& d, std::string& error) override {
    if (!d.identity.known()) {
      error =
          "task identity not known yet (no successful /task read): not writing, since series without the task's "
          "labels would mix with other tasks'";
      return false;
    }
    const int64_t now_ms = wall_ms();
    Pending request;
    std::string invalid;
    request.samples = encode(d, now_ms, invalid);
    if (!invalid.empty()) {
      error = invalid;
      return false;
    }
    if (!compress(request.body, body_)) {
      error = "snappy compression of the request failed";
      return false;
    }
    pending_.push_back(std::move(request));
    while (pending_.size() > capacity_) {
      dropped_ += pending_.front().samples;
      if (!options_.once)
        log::warn(
            "remote-write buffer full: the oldest unsent cycle is dropped",
            {{"samples", std::to_string(pending_.front().samples)}, {"buffer_cycles", std::to_string(capacity_)}});
      pending_.pop_front();
    }
    return flush(d.deadline, error);
  }

  // Sends what is still buffered, then a staleness marker for every series
  // written, so that they end now rather than linger for the receiver's
  // lookback (5 minutes in Prometheus).
  bool remove(const TaskIdentity&, SteadyTime deadline, std::string& error) override {
    if (!flush(deadline, error)) log::warn("remote-write: unsent cycles lost at shutdown", {{"err", error}});
    error.clear();
    if (written_.empty()) return true;
    body_.clear();
    const int64_t now_ms = wall_ms();
    for (const std::string& labels : written_) add_series(labels, remote_write::stale_nan(), now_ms);
    const size_t series = written_.size();
    written_.clear();
    Pending markers;
    markers.samples = series;
    if (!compress(markers.body, body_)) {
      error = "snappy compression of the staleness markers failed";
      return false;
    }
    pending_.push_back(std::move(markers));
    if (!flush(deadline, error)) return false;
    log::debug("remote-write: staleness markers sent", {{"series", std::to_string(series)}});
    return true;
  }

 private:
  static int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  bool check_static_labels(std::string& error) {
    for (const auto& [name, value] : options_.static_labels) {
      const bool taken =
          name == "job" || name == "__name__" ||
          std::find(std::begin(kIdentityLabelNames), std::end(kIdentityLabelNames), name) !=
              std::end(kIdentityLabelNames) ||
          std::find(std::begin(kSeriesLabelNames), std::end(kSeriesLabelNames), name) != std::end(kSeriesLabelNames);
      if (!valid_label_name(name) || name.starts_with("__")) {
        error = fmt::format("--remote-write.label: '{}' is not a valid label name", name);
        return false;
      }
      if (taken) {
        error = fmt::format(
            "--remote-write.label: \"{}\" is a label of the written series; a static label would overwrite the real "
            "value",
            name);
        return false;
      }
      if (!valid_utf8(value)) {
        error = fmt::format("--remote-write.label: the value of '{}' is not valid UTF-8", name);
        return false;
      }
    }
    return true;
  }

  // Encodes the cycle into body_ (moved into the returned request by the
  // caller) and returns its sample count; sets `error` on a value the
  // receiver would refuse.
  size_t encode(const Delivery& d, int64_t now_ms, std::string& error) {
    identity_labels(d.identity, container_extra_, exporter_extra_);
    body_.clear();
    current_.clear();
    size_t samples = 0;
    for (const MetricDef& def : kMetricDefs) {
      const auto& set_samples = d.set.samples(def.id);
      if (set_samples.empty()) continue;
      const std::string_view extra = def.scope == MetricScope::Container ? container_extra_ : exporter_extra_;
      for (const MetricSet::Sample& s : set_samples) {
        labels_.clear();
        labels_.emplace_back("__name__", def.name);
        remote_write::parse_label_block(d.set.labels(s.labels), labels_);
        remote_write::parse_label_block(extra, labels_);
        labels_.emplace_back("job", options_.job);
        for (const auto& [name, value] : options_.static_labels) labels_.emplace_back(name, value);
        std::sort(labels_.begin(), labels_.end());
        std::string encoded;
        for (const auto& [name, value] : labels_) {
          if (!valid_utf8(value)) {
            error = fmt::format("label {} of {} is not valid UTF-8; not writing the cycle", name, def.name);
            return 0;
          }
          label_.clear();
          pb::put_bytes(label_, kLabelName, name);
          pb::put_bytes(label_, kLabelValue, value);
          pb::put_bytes(encoded, kTimeSeriesLabels, label_);
        }
        add_series(encoded, s.value, now_ms);
        current_.push_back(std::move(encoded));
        ++samples;
      }
      metadata_.clear();
      pb::put_int64(metadata_, kMetadataType, def.type == MetricType::Counter ? kMetadataCounter : kMetadataGauge);
      pb::put_bytes(metadata_, kMetadataFamilyName, def.name);
      pb::put_bytes(metadata_, kMetadataHelp, def.help);
      pb::put_bytes(body_, kWriteRequestMetadata, metadata_);
    }
    // A cycle that read the metadata knows every series the task has now:
    // those written before and gone (a container removed, an interface
    // renamed) end here. A failed read knows nothing, and ends nothing.
    std::sort(current_.begin(), current_.end());
    if (d.metadata_ok) {
      gone_.clear();
      std::set_difference(written_.begin(), written_.end(), current_.begin(), current_.end(),
                          std::back_inserter(gone_));
      for (const std::string& labels : gone_) add_series(labels, remote_write::stale_nan(), now_ms);
      samples += gone_.size();
      written_.swap(current_);
    } else {
      std::vector<std::string> merged;
      std::set_union(written_.begin(), written_.end(), current_.begin(), current_.end(), std::back_inserter(merged));
      written_.swap(merged);
    }
    return samples;
  }

  // Appends one TimeSeries with one sample to body_.
  void add_series(std::string_view encoded_labels, double value, int64_t ts_ms) {
    series_.assign(encoded_labels);
    sample_.clear();
    pb::put_double(sample_, kSampleValue, value);
    pb::put_int64(sample_, kSampleTimestamp, ts_ms);
    pb::put_bytes(series_, kTimeSeriesSamples, sample_);
    pb::put_bytes(body_, kWriteRequestTimeseries, series_);
  }

  // `in` → snappy block format, into `out`.
  static bool compress(std::string& out, const std::string& in) {
    size_t length = snappy_max_compressed_length(in.size());
    out.resize(length);
    if (snappy_compress(in.data(), in.size(), out.data(), &length) != SNAPPY_OK) return false;
    out.resize(length);
    return true;
  }

  // Sends the buffered requests, oldest first, until one fails for a reason
  // that may pass (kept for the next cycle) or the deadline comes.
  bool flush(SteadyTime deadline, std::string& error) {
    bool first = true;
    while (!pending_.empty()) {
      if (!first && std::chrono::steady_clock::now() >= deadline) {
        error = fmt::format("{} cycle(s) still unsent when the cycle's time ran out; kept for the next cycle",
                            pending_.size());
        return false;
      }
      first = false;
      Pending& next = pending_.front();
      if (signer_) {
        if (!signer_->sign(*client_, deadline, error)) return false;
        for (const std::string& secret : signer_->secrets()) client_->add_secret(secret);
      }
      // "Expect:" saves the 100-continue round trip, but libcurl 7.88 puts
      // such an emptied header into the SigV4 signature and then does not
      // send it, so AWS would refuse every request: not when signing (our
      // bodies stay far below the 1 MiB where libcurl would ask).
      headers_ = client_->headers_with({"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                                        "X-Prometheus-Remote-Write-Version: 0.1.0", signer_ ? "" : "Expect:",
                                        signer_ ? std::string_view(signer_->token_header()) : std::string_view()});
      const HttpRequest request{"POST", &options_.url, next.body, headers_.get()};
      if (client_->send(request, deadline, response_, error, "remote-write receiver")) {
        if (log::enabled(LogLevel::Debug))
          log::debug("remote write sent", {{"status", std::to_string(response_.status)},
                                           {"samples", std::to_string(next.samples)},
                                           {"sent_bytes", std::to_string(next.body.size())},
                                           {"attempts", std::to_string(response_.attempts)},
                                           {"pending_cycles", std::to_string(pending_.size() - 1)},
                                           {"seconds", fmt::format("{:.6f}", client_->last_seconds())}});
        pending_.pop_front();
        continue;
      }
      const long status = response_.status;
      if (response_.code == CURLE_OK && status >= 400 && status < 500 && status != 429) {
        // The receiver will never take this request: drop it, count it.
        rejected_ += next.samples;
        pending_.pop_front();
        error = fmt::format("the receiver refused the cycle's samples for good; dropped: {}", error);
        return false;
      }
      error += pending_.size() > 1 ? fmt::format(" ({} cycles kept for later)", pending_.size())
                                   : std::string(" (kept for the next cycle)");
      return false;
    }
    return true;
  }

  RemoteWriteOptions options_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<AwsSigner> signer_;
  CurlHeaders headers_;
  HttpResponse response_;
  size_t capacity_ = 1;
  std::deque<Pending> pending_;
  uint64_t dropped_ = 0;
  uint64_t rejected_ = 0;
  // The encoded label sets written so far (sorted): what staleness markers end.
  std::vector<std::string> written_;

  // Reused from cycle to cycle.
  std::vector<std::string> current_;
  std::vector<std::string> gone_;
  std::string container_extra_;
  std::string exporter_extra_;
  Labels labels_;
  std::string label_;
  std::string sample_;
  std::string series_;
  std::string metadata_;
  std::string body_;
};

}  // namespace

std::unique_ptr<Sink> make_remote_write_sink(const RemoteWriteOptions& options, std::string& error) {
  auto sink = std::make_unique<RemoteWriteSink>(options);
  if (!sink->init(error)) return nullptr;
  return sink;
}

}  // namespace emp
