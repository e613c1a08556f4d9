// What libcurl alone costs, so that bench/process_bench.sh can set the
// pusher's figures beside a floor no pusher built on libcurl can go under.
//
//   libcurl_floor
//       Links Debian's libcurl, calls curl_global_init as main.cc does and
//       prints this process's resident set: the memory floor.
//   libcurl_floor --exchanges METADATA_URL PUSH_URL BODY_FILE INTERVAL_MS
//       Loops until SIGTERM doing only a cycle's three HTTP exchanges — GET
//       METADATA_URL/task, GET METADATA_URL/task/stats, PUT BODY_FILE to
//       PUSH_URL — on two reused handles (keep-alive, as the pusher's), with no
//       parse, no render and no gzip: the CPU floor of a cycle. The bench
//       reads its CPU per cycle exactly as it reads the pusher's.
#include <curl/curl.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

namespace {

int print_rss() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 1;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    // "VmRSS:   9508 kB" → "VmRSS 9508"
    for (const char* key : {"VmRSS:", "RssAnon:", "RssFile:"}) {
      if (std::strncmp(line, key, std::strlen(key)) == 0) {
        long kb = 0;
        std::sscanf(line + std::strlen(key), "%ld", &kb);
        std::printf("%.*s %ld\n", static_cast<int>(std::strlen(key) - 1), key, kb);
      }
    }
  }
  std::fclose(f);
  return 0;
}

volatile std::sig_atomic_t stop = 0;

size_t keep(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

CURL* handle(std::string* sink) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &keep);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  return c;
}

int exchanges(const std::string& metadata, const char* push_url, const char* body_file, long interval_ms) {
  std::ifstream in(body_file, std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return 2;
  const std::string task_url = metadata + "/task", stats_url = metadata + "/task/stats";
  std::string received;
  received.reserve(1 << 16);
  CURL* meta = handle(&received);
  CURL* push = handle(&received);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: text/plain; version=0.0.4");
  curl_easy_setopt(push, CURLOPT_URL, push_url);
  curl_easy_setopt(push, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(push, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(push, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(push, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  std::signal(SIGTERM, [](int) { stop = 1; });
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!stop) {
    for (const std::string* url : {&task_url, &stats_url}) {
      received.clear();
      curl_easy_setopt(meta, CURLOPT_URL, url->c_str());
      if (CURLcode rc = curl_easy_perform(meta); rc != CURLE_OK) {
        std::fprintf(stderr, "libcurl_floor: GET %s: %s\n", url->c_str(), curl_easy_strerror(rc));
        return 1;
      }
    }
    received.clear();
    if (CURLcode rc = curl_easy_perform(push); rc != CURLE_OK) {
      std::fprintf(stderr, "libcurl_floor: PUT %s: %s\n", push_url, curl_easy_strerror(rc));
      return 1;
    }
    next.tv_nsec += interval_ms * 1000000L;
    next.tv_sec += next.tv_nsec / 1000000000L;
    next.tv_nsec %= 1000000000L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) != 0 && !stop) {
    }
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(push);
  curl_easy_cleanup(meta);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (argc == 6 && std::strcmp(argv[1], "--exchanges") == 0) {
    rc = exchanges(argv[2], argv[3], argv[4], std::atol(argv[5]));
  } else if (argc == 1) {
    rc = print_rss();
  } else {
    std::fprintf(stderr, "usage: libcurl_floor [--exchanges METADATA_URL PUSH_URL BODY_FILE INTERVAL_MS]\n");
    rc = 2;
  }
  curl_global_cleanup();
  return rc;
}
