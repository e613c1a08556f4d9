#include "metadata_source.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "http_client.h"

namespace emp {
namespace {

class HttpSource final : public MetadataSource {
 public:
  HttpSource(const MetadataOptions& o, std::unique_ptr<HttpClient> client)
      : client_(std::move(client)),
        task_url_(o.url + "/task"),
        stats_url_(o.url + "/task/stats"),
        headers_(client_->headers_with({})),
        timeout_(o.timeout) {}

  FetchResult fetch(MetadataBodies& out, std::string& error) override {
    const FetchResult task = get(task_url_, out.task, error);
    return task == FetchResult::Ok ? get(stats_url_, out.stats, error) : task;
  }

 private:
  FetchResult get(const std::string& url, PaddedBody& body, std::string& error) {
    const HttpRequest request{"GET", &url, {}, headers_.get()};
    // One attempt: the loop decides when to try again.
    client_->perform(request, std::chrono::steady_clock::now() + timeout_, response_);
    // The same rule as the sinks' retries: connection-level errors, 5xx, 429.
    const FetchResult failed = http_retry::retryable(response_.code, response_.status) && !response_.too_large
                                   ? FetchResult::Transient
                                   : FetchResult::Permanent;
    if (response_.code == CURLE_OK && !response_.too_large && response_.status != 200) {
      error = fmt::format("GET {}: HTTP status {}", redact_url(url), response_.status);
      return failed;
    }
    if (response_.code != CURLE_OK || response_.too_large) {
      error = client_->describe_failure(request, response_);
      if (response_.too_large) error += " (--metadata.max-body-bytes)";
      return failed;
    }
    // The buffers trade places: both keep their capacity for the next cycle.
    std::swap(body, response_.body);
    return FetchResult::Ok;
  }

  std::unique_ptr<HttpClient> client_;
  std::string task_url_;
  std::string stats_url_;
  CurlHeaders headers_;
  Duration timeout_;
  HttpResponse response_;
};

class FileSource final : public MetadataSource {
 public:
  FileSource(std::string task, std::string stats, size_t max_body)
      : task_path_(std::move(task)), stats_path_(std::move(stats)), max_body_(max_body) {}

  // A replay file does not change by being read again: every failure is permanent.
  FetchResult fetch(MetadataBodies& out, std::string& error) override {
    return read(task_path_, out.task, error) && read(stats_path_, out.stats, error) ? FetchResult::Ok
                                                                                    : FetchResult::Permanent;
  }

 private:
  bool read(const std::string& path, PaddedBody& body, std::string& error) {
    body.clear();
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
      error = fmt::format("read {}: {}", path, std::strerror(errno));
      return false;
    }
    char buf[65536];
    size_t n;
    bool too_large = false;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      if (body.size() + n > max_body_) {
        too_large = true;
        break;
      }
      body.append(buf, n);
    }
    const bool failed = std::ferror(f);
    std::fclose(f);
    if (too_large) {
      error = fmt::format("read {}: larger than {} bytes (--metadata.max-body-bytes)", path, max_body_);
      return false;
    }
    if (failed) {
      error = fmt::format("read {}: read error", path);
      return false;
    }
    return true;
  }

  std::string task_path_;
  std::string stats_path_;
  size_t max_body_;
};

}  // namespace

std::unique_ptr<MetadataSource> make_metadata_source(const MetadataOptions& o, std::string& error) {
  if (o.replay()) return std::make_unique<FileSource>(o.task_file, o.stats_file, o.max_body);
  HttpClientOptions http = HttpClientOptions::for_flags("metadata");
  http.connect_timeout = o.connect_timeout;
  http.timeout = o.timeout;
  http.use_proxy = false;
  http.max_response = o.max_body;
  http.refuse_larger = true;
  auto client = HttpClient::create(std::move(http), error);
  if (!client) return nullptr;
  return std::make_unique<HttpSource>(o, std::move(client));
}

}  // namespace emp
