#include "pushgateway_sink.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "grouping_key.h"
#include "gzip.h"
#include "log.h"
#include "text_format.h"

namespace emp {

namespace {

class PushgatewaySink final : public Sink {
 public:
  explicit PushgatewaySink(const PushgatewayOptions& o) : options_(o) {}

  bool init(std::string& error) {
    if (!init_url(error)) return false;
    if (!check_static_labels(error)) return false;
    client_ = HttpClient::create(options_.http, error);
    if (!client_) return false;
    if (options_.gzip && !gzip_.init()) {
      error = "--pushgateway.gzip: zlib could not be initialised";
      return false;
    }
    push_headers_ = client_->headers_with({"Content-Type: text/plain; version=0.0.4; charset=utf-8",
                                           options_.gzip ? "Content-Encoding: gzip" : "",
                                           // No "Expect: 100-continue" round trip before each body.
                                           "Expect:"});
    delete_headers_ = client_->headers_with({});
    warn_about_setup();
    return true;
  }

  std::string_view name() const override { return "pushgateway"; }

  bool deliver(const Delivery& d, std::string& error) override {
    if (!build_url(d.identity, error)) return false;
    if (!identity_checked_) warn_about_empty_labels(d.identity);
    // The Pushgateway adds the grouping labels to every series itself; the
    // task's identity labels the key leaves out go on the series, so that
    // they still say which task (and which run, with --once) they are from.
    series_labels(d.identity);
    render_text(d.set, ExtraLabels{container_extra_, exporter_extra_}, text_);
    if (!valid_utf8(text_)) {
      error =
          "the metrics text is not valid UTF-8 (a label value from the metadata?); not pushing, since the "
          "Pushgateway would store a group it cannot expose";
      return false;
    }
    // PUT replaces the group, so a container that went away disappears. But a
    // cycle whose metadata read failed only knows `success 0`: POST it, so the
    // last good container series stay instead of vanishing for one cycle.
    const char* method = options_.put && d.metadata_ok ? "PUT" : "POST";
    std::string_view payload = text_;
    if (options_.gzip) {
      if (!gzip_.compress(text_, gzipped_, error)) return false;
      payload = gzipped_;
    }
    const HttpRequest request{method, &url_, payload, push_headers_.get()};
    if (!client_->send(request, d.deadline, response_, error, "Pushgateway")) return false;
    if (log::enabled(LogLevel::Debug))
      log::debug("pushed", {{"method", method},
                            {"url", url_},
                            {"status", std::to_string(response_.status)},
                            {"body_bytes", std::to_string(text_.size())},
                            {"sent_bytes", std::to_string(payload.size())},
                            {"seconds", fmt::format("{:.6f}", client_->last_seconds())},
                            {"new_connections", std::to_string(client_->last_new_connections())},
                            {"attempts", std::to_string(response_.attempts)}});
    return true;
  }

  bool remove(const TaskIdentity& identity, SteadyTime deadline, std::string& error) override {
    if (needs_identity() && !identity.known()) return true;  // nothing was ever pushed under a complete key
    if (!build_url(identity, error)) return false;
    const HttpRequest request{"DELETE", &url_, {}, delete_headers_.get()};
    return client_->send(request, deadline, response_, error, "Pushgateway");
  }

 private:
  bool needs_identity() const { return !options_.grouping_labels.empty(); }

  bool init_url(std::string& error) {
    CURLU* u = curl_url();
    const CURLUcode rc = curl_url_set(u, CURLUPART_URL, options_.url.c_str(), 0);
    bool ok = rc == CURLUE_OK;
    char* part = nullptr;
    if (ok) {
      // Never echo a URL that may hold credentials.
      if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
          curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        error =
            "--pushgateway.url: user or password in the URL is not allowed (it would end up in logs); use "
            "--pushgateway.username with --pushgateway.password-file";
        ok = false;
      } else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        error = "--pushgateway.url: a query or fragment cannot be part of the Pushgateway's base URL";
        ok = false;
      }
      curl_free(part);
    } else {
      error = fmt::format("--pushgateway.url: not a valid URL ({})", curl_url_strerror(rc));
    }
    curl_url_cleanup(u);
    if (!ok) return false;
    base_ = options_.url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    return true;
  }

  bool check_static_labels(std::string& error) {
    for (const auto& [name, value] : options_.static_labels) {
      // A name that is also a grouping label is refused below as a duplicate.
      const auto& grouping = options_.grouping_labels;
      if (std::find(grouping.begin(), grouping.end(), name) != grouping.end()) continue;
      const bool identity = std::find(std::begin(kIdentityLabelNames), std::end(kIdentityLabelNames), name) !=
                            std::end(kIdentityLabelNames);
      const bool series =
          std::find(std::begin(kSeriesLabelNames), std::end(kSeriesLabelNames), name) != std::end(kSeriesLabelNames);
      if (identity || series) {
        error = fmt::format(
            "--pushgateway.grouping-label: \"{}\" is a label of the pushed series; as a static grouping label it "
            "would overwrite the real value{}",
            name, identity ? " (list it in --pushgateway.grouping-labels to group by the task's own value)" : "");
        return false;
      }
    }
    // The whole key with stand-in identity values: names, duplicates, UTF-8.
    TaskIdentity sample;
    sample.task_id = sample.task_family = sample.task_revision = sample.cluster = sample.service_name =
        sample.availability_zone = sample.launch_type = "x";
    return build_url(sample, error);
  }

  void warn_about_setup() const {
    const HttpClientOptions& h = options_.http;
    if (h.insecure_skip_verify && base_.starts_with("https://"))
      log::warn("TLS certificate verification of the Pushgateway is OFF (--pushgateway.insecure-skip-verify)");
    if (base_.starts_with("http://") && (!h.password.empty() || !h.bearer_token.empty()))
      log::warn("Pushgateway credentials will be sent over plain http; use an https:// URL");
    const auto& labels = options_.grouping_labels;
    if (!options_.runs_share_group && !labels.empty() &&
        std::find(labels.begin(), labels.end(), "task_id") == labels.end())
      log::warn("the Pushgateway grouping key has no task_id: tasks with the same key replace each other's group",
                {{"grouping_labels", fmt::format("{}", fmt::join(labels, ","))}});
    for (const auto& [name, value] : options_.static_labels) {
      if (value.empty())
        log::warn(
            "static grouping label with an empty value: for Prometheus it is the same as no label, so this "
            "group's series equal those of a group without it",
            {{"label", name}});
    }
  }

  // Once, with the first identity: a grouping label this launch type leaves
  // empty (service_name of a standalone task, availability_zone of an old
  // agent) still goes out, as @base64/=, but the user should know and pick
  // another.
  void warn_about_empty_labels(const TaskIdentity& identity) {
    identity_checked_ = true;
    for (const std::string& name : options_.grouping_labels) {
      const std::string* value = identity.get(name);
      if (!value || !value->empty()) continue;
      std::string has;
      for (std::string_view other : kIdentityLabelNames) {
        const std::string* v = identity.get(other);
        if (v && !v->empty() && other != "task_id") has += fmt::format("{}{}={}", has.empty() ? "" : ",", other, *v);
      }
      log::warn(
          "a grouping label has no value on this task; it is sent empty, which groups all such tasks together "
          "(choose another in --pushgateway.grouping-labels)",
          {{"label", name}, {"launch_type", identity.launch_type}, {"task_has", has}});
    }
  }

  // Of task_family, task_revision, task_id (what the textfile puts on its
  // series), those the grouping key does not carry: task_id alone on
  // container series (they have the other two), all three on the exporter's.
  void series_labels(const TaskIdentity& identity) {
    container_extra_.clear();
    exporter_extra_.clear();
    const auto& key = options_.grouping_labels;
    auto add = [&](std::string& out, std::string_view name, const std::string& value) {
      if (std::find(key.begin(), key.end(), name) != key.end()) return;
      if (!out.empty()) out += ',';
      out.append(name).append("=\"");
      append_escaped_label_value(out, value);
      out += '"';
    };
    add(exporter_extra_, "task_family", identity.task_family);
    add(exporter_extra_, "task_revision", identity.task_revision);
    add(exporter_extra_, "task_id", identity.task_id);
    add(container_extra_, "task_id", identity.task_id);
  }

  // url_ = base + "/metrics/job/<job>/…" for this identity (buffers reused).
  bool build_url(const TaskIdentity& identity, std::string& error) {
    if (needs_identity() && !identity.known()) {
      error =
          "task identity not known yet (no successful /task read): not pushing, since a grouping key without "
          "the task's labels would name the wrong group";
      return false;
    }
    labels_.clear();
    for (const std::string& name : options_.grouping_labels) {
      const std::string* value = identity.get(name);
      labels_.push_back({name, value ? std::string_view(*value) : std::string_view()});
    }
    for (const auto& [name, value] : options_.static_labels) labels_.push_back({name, value});
    url_.assign(base_);
    return build_grouping_path(options_.job, labels_, url_, error);
  }

  PushgatewayOptions options_;
  std::string base_;
  std::unique_ptr<HttpClient> client_;
  CurlHeaders push_headers_;
  CurlHeaders delete_headers_;
  Gzip gzip_;

  // Reused from cycle to cycle.
  std::vector<GroupingLabel> labels_;
  std::string url_;
  bool identity_checked_ = false;
  std::string container_extra_;
  std::string exporter_extra_;
  std::string text_;
  std::string gzipped_;
  HttpResponse response_;
};

}  // namespace

std::unique_ptr<Sink> make_pushgateway_sink(const PushgatewayOptions& options, std::string& error) {
  auto sink = std::make_unique<PushgatewaySink>(options);
  if (!sink->init(error)) return nullptr;
  return sink;
}

}  // namespace emp
