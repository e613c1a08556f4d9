// text: a MetricSet in the Prometheus text exposition format 0.0.4.
#pragma once

#include <string>
#include <string_view>

#include "metrics.h"
#include "model.h"

namespace emp {

// Labels a sink adds, already escaped and joined (`task_id="…"`), or empty.
struct ExtraLabels {
  std::string_view container;  // on Container-scope series
  std::string_view exporter;   // on Exporter-scope series
};

// The labels that make a sink's output name its task, for sinks that do not
// carry the identity elsewhere: `task_id` on Container-scope series, and
// `task_family`, `task_revision`, `task_id` on Exporter-scope series. Both
// strings are left empty when the identity is not known yet.
void identity_labels(const TaskIdentity& identity, std::string& container, std::string& exporter);

// Replaces `out` with the exposition of `set`: HELP and TYPE once per family,
// families in the metric table's order, no timestamps, a final newline.
void render_text(const MetricSet& set, const ExtraLabels& extra, std::string& out);

// A sample value as Prometheus writes it: integers without exponent where
// exact, otherwise the shortest text that reads back as the same double;
// NaN, +Inf, -Inf.
void append_value(std::string& out, double value);

// HELP text escaping (backslash and newline).
void append_escaped_help(std::string& out, std::string_view help);

}  // namespace emp
