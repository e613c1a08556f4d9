// sink: a Prometheus Pushgateway, over HTTP(S) with libcurl.
#pragma once

#include <memory>
#include <string>

#include "options.h"
#include "sink.h"

namespace emp {

// Builds the sink from the options (the grouping key is completed from the
// task identity at each delivery). nullptr with `error` set when the options
// cannot work (e.g. a static grouping label that is not valid UTF-8).
std::unique_ptr<Sink> make_pushgateway_sink(const Options& options, std::string& error);

}  // namespace emp
