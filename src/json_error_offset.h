// Where a rejected body stops being JSON, for the error message. simdjson's
// DOM parser (3.0, Debian 12) reports what went wrong but not where; its
// on-demand parser's current_location() points at the last token it read, not
// at the fault, and is only defined while iterating. So this small scanner
// walks the rejected text once more; it runs only after a failed parse.
#pragma once

#include <cstddef>
#include <string_view>

namespace emp {

// Byte offset of the first place where `text` stops being JSON, or
// text.size() when it ends early; npos when it is valid JSON. Only used to
// word an error after simdjson rejected a body.
size_t locate_json_error(std::string_view text);

}  // namespace emp
