#include "version_info.h"

#include <curl/curl.h>
#include <simdjson.h>
#include <zlib.h>

#include <fmt/format.h>

#include "version.h"
#include "web_server.h"

namespace emp {

std::string version_text() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return fmt::format(
      "ecs-metrics-pusher, version {} (revision: {})\n"
      "  build date:  {}\n"
      "  compiler:    {}, C++{}\n"
      "  libcurl:     {} ({})\n"
      "  simdjson:    {}.{}.{}\n"
      "  fmt:         {}.{}.{}\n"
      "  zlib:        {}\n"
      "  scrape endpoint: {}\n",
      EMP_VERSION, EMP_REVISION, __DATE__, EMP_COMPILER, __cplusplus / 100 % 100, curl->version,
      curl->ssl_version ? curl->ssl_version : "no TLS", int(simdjson::SIMDJSON_VERSION_MAJOR),
      int(simdjson::SIMDJSON_VERSION_MINOR), int(simdjson::SIMDJSON_VERSION_REVISION), FMT_VERSION / 10000,
      FMT_VERSION / 100 % 100, FMT_VERSION % 100, zlibVersion(), web_server_version());
}

}  // namespace emp
