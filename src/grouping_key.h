// grouping key: the Pushgateway URL path that names one group,
// /metrics/job/<job>/<name>/<value>…, with the checks that keep a bad key from
// ever reaching the server. Pushgateway 1.5.1 stores a group even when the push
// fails, and some keys (a value that is not UTF-8, two groups whose series look
// the same) then break /metrics and every later push for every client, so the
// checks run before any byte is sent. Pure functions: unit-tested and fuzzable.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emp {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool valid_utf8(std::string_view s);
// The same check, a byte at a time (the reference for tests).
bool valid_utf8_reference(std::string_view s);

// A Prometheus label name usable in a grouping key: [a-zA-Z_][a-zA-Z0-9_]*,
// not starting with "__" (reserved; the Pushgateway rejects it).
bool valid_label_name(std::string_view name);

// True when a path value must be sent as `@base64`: it is empty, ".", "..", or
// holds a byte outside [A-Za-z0-9._~-]. ("." and ".." would be removed from the
// path as dot segments; '/' would split it; '%' is decoded before splitting.)
bool needs_base64(std::string_view value);

// URL-safe base64 (RFC 4648 §5, alphabet A-Z a-z 0-9 - _) without padding, as the
// Go client library sends it; the Pushgateway accepts padded and unpadded.
void append_base64url(std::string& out, std::string_view in);
std::string base64url(std::string_view in);
// Reverses append_base64url; padding optional. False on any other byte or a
// truncated final group.
bool decode_base64url(std::string_view in, std::string& out);

// Appends "/<name>/<value>" or "/<name>@base64/<encoded>" (empty value: "@base64/=").
void append_path_label(std::string& out, std::string_view name, std::string_view value);

struct GroupingLabel {
  std::string_view name;
  std::string_view value;
};

// Checks a whole grouping key and, when it is sound, appends
// "/metrics/job/<job>[/<name>/<value>]…" to `out`. False with a one-line
// `error` naming the label when:
//  - the job is empty or not UTF-8;
//  - a name is not a valid label name, is "job", or appears twice;
//  - a value is not valid UTF-8 (the error shows it with \x escapes, so
//    nothing unprintable reaches a log).
bool build_grouping_path(std::string_view job, const std::vector<GroupingLabel>& labels, std::string& out,
                         std::string& error);

// `s` for a one-line log: control bytes and invalid UTF-8 become \xNN, at most
// `max_bytes` of input are shown (never cutting a character), "…" marks the cut.
std::string printable(std::string_view s, size_t max_bytes = 200);

}  // namespace emp
