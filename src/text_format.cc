#include "text_format.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace emp {

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 9223372036854775808.0) {
    // format_int is fmt's fastest path, with no format string to interpret.
    const fmt::format_int digits(static_cast<int64_t>(v));
    out.append(digits.data(), digits.size());
  } else if (v == std::trunc(v) && v > 0 && v < 18446744073709551616.0) {
    const fmt::format_int digits(static_cast<uint64_t>(v));
    out.append(digits.data(), digits.size());
  } else {
    char buf[32];  // the shortest round-trip form of a double fits in 24
    const char* end = fmt::format_to(buf, "{}", v);
    out.append(buf, static_cast<size_t>(end - buf));
  }
}

void append_escaped_help(std::string& out, std::string_view help) {
  // Copy the runs between characters that need escaping whole: HELP texts
  // rarely contain any, and a character-by-character append is the slow part.
  size_t run = 0;
  for (size_t i = 0; i < help.size(); ++i) {
    const char c = help[i];
    if (c != '\\' && c != '\n') continue;
    out.append(help.data() + run, i - run);
    out += c == '\n' ? "\\n" : "\\\\";
    run = i + 1;
  }
  out.append(help.data() + run, help.size() - run);
}

void identity_labels(const TaskIdentity& identity, std::string& container, std::string& exporter) {
  container.clear();
  exporter.clear();
  if (!identity.known()) return;
  container = "task_id=\"";
  append_escaped_label_value(container, identity.task_id);
  container += '"';
  exporter = "task_family=\"";
  append_escaped_label_value(exporter, identity.task_family);
  exporter += "\",task_revision=\"";
  append_escaped_label_value(exporter, identity.task_revision);
  exporter += "\",";
  exporter += container;
}

void render_text(const MetricSet& set, const ExtraLabels& extra, std::string& out) {
  out.clear();
  for (const MetricDef& d : kMetricDefs) {
    const auto& samples = set.samples(d.id);
    if (samples.empty()) continue;
    out += "# HELP ";
    out += d.name;
    out += ' ';
    append_escaped_help(out, d.help);
    out += "\n# TYPE ";
    out += d.name;
    out += d.type == MetricType::Counter ? " counter\n" : " gauge\n";
    const std::string_view added = d.scope == MetricScope::Container ? extra.container : extra.exporter;
    for (const auto& sample : samples) {
      const std::string_view own = set.labels(sample.labels);
      out += d.name;
      if (!own.empty() || !added.empty()) {
        out += '{';
        out += own;
        if (!own.empty() && !added.empty()) out += ',';
        out += added;
        out += '}';
      }
      out += ' ';
      append_value(out, sample.value);
      out += '\n';
    }
  }
}

}  // namespace emp
