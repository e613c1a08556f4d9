// The memory floor of any program that uses Debian's libcurl: link it, call
// curl_global_init as main.cc does, and print this process's resident set.
// bench/process_bench.sh sets it beside the pusher's RSS, so the table shows
// how much of the pusher's RSS is the library's and how much our own.
#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <initializer_list>

int main() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
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
  curl_global_cleanup();
  return 0;
}
