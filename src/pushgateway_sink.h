// sink: a Prometheus Pushgateway, over HTTP(S) with libcurl.
//
// Each cycle PUTs (or POSTs) the whole text exposition, gzip-compressed, to
// /metrics/job/<job>/<grouping key…>; one libcurl handle keeps the connection
// alive across cycles. Connection errors, 5xx and 429 are retried with capped
// exponential backoff and jitter until the deadline (set_deadline(), else a
// budget of 80% of --interval); other statuses fail at once with the
// Pushgateway's own explanation. Secrets never reach an error or a log line.
#pragma once

#include <chrono>
#include <memory>
#include <random>
#include <string>

#include "options.h"
#include "sink.h"

namespace emp {

// Builds the sink from the options (the grouping key is completed from the
// task identity at each delivery). nullptr with `error` set when the options
// cannot work (e.g. a static grouping label that is not valid UTF-8, a
// reserved label name, credentials inside the URL). Logs a warning once when
// TLS verification is off or credentials would travel over plain http.
std::unique_ptr<Sink> make_pushgateway_sink(const Options& options, std::string& error);

// Retry policy, exposed for tests.
namespace push_retry {
// Whether a failed attempt may succeed if repeated: connection-level errors,
// HTTP 5xx and 429. `curl_code` is a CURLcode (0 = a response arrived).
bool retryable(int curl_code, long http_status);
// Delay before attempt `attempt + 1` (attempt ≥ 1): 250 ms doubling per
// attempt, capped at 4 s, with "equal jitter" (a uniform draw from the upper
// half) so that a fleet that failed together does not retry together.
std::chrono::milliseconds backoff(int attempt, std::minstd_rand& rng);
}  // namespace push_retry

}  // namespace emp
