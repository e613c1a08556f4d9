#include "metadata_source.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace emp {
namespace {

void ensure_padding(std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
}

class HttpSource final : public MetadataSource {
 public:
  explicit HttpSource(HttpSourceOptions o)
      : options_(std::move(o)),
        task_url_(options_.base_url + "/task"),
        stats_url_(options_.base_url + "/task/stats"),
        curl_(curl_easy_init()) {}
  ~HttpSource() override {
    if (curl_) curl_easy_cleanup(curl_);
  }

  bool fetch(MetadataBodies& out, std::string& error) override {
    return get(task_url_, out.task, error) && get(stats_url_, out.stats, error);
  }

 private:
  struct Sink {
    std::string* body;
    size_t max;
    bool too_large;
  };

  static size_t on_data(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t n = size * count;
    if (sink->body->size() + n > sink->max) {
      sink->too_large = true;
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    sink->body->append(data, n);
    return n;
  }

  bool get(const std::string& url, std::string& body, std::string& error) {
    if (!curl_) {
      error = "libcurl could not be initialised";
      return false;
    }
    body.clear();
    Sink sink{&body, options_.max_body, false};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    // The endpoint is link-local: a proxy configured for the Pushgateway must not capture it.
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpSource::on_data);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "ecs-metrics-pusher");
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, curl_error_);
    curl_error_[0] = '\0';
    CURLcode rc = curl_easy_perform(curl_);
    if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      error = fmt::format("GET {}: body larger than {} bytes (--metadata.max-body-bytes)", url, options_.max_body);
      return false;
    }
    if (rc != CURLE_OK) {
      error = fmt::format("GET {}: {}", url, curl_error_[0] ? curl_error_ : curl_easy_strerror(rc));
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      error = fmt::format("GET {}: HTTP status {}", url, status);
      return false;
    }
    ensure_padding(body);
    return true;
  }

  HttpSourceOptions options_;
  std::string task_url_;
  std::string stats_url_;
  CURL* curl_;
  char curl_error_[CURL_ERROR_SIZE] = {};
};

class FileSource final : public MetadataSource {
 public:
  FileSource(std::string task, std::string stats, size_t max_body)
      : task_path_(std::move(task)), stats_path_(std::move(stats)), max_body_(max_body) {}

  bool fetch(MetadataBodies& out, std::string& error) override {
    return read(task_path_, out.task, error) && read(stats_path_, out.stats, error);
  }

 private:
  bool read(const std::string& path, std::string& body, std::string& error) {
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
    ensure_padding(body);
    return true;
  }

  std::string task_path_;
  std::string stats_path_;
  size_t max_body_;
};

}  // namespace

std::unique_ptr<MetadataSource> make_http_source(const HttpSourceOptions& options) {
  return std::make_unique<HttpSource>(options);
}

std::unique_ptr<MetadataSource> make_file_source(std::string task_path, std::string stats_path, size_t max_body) {
  return std::make_unique<FileSource>(std::move(task_path), std::move(stats_path), max_body);
}

}  // namespace emp
