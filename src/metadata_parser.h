// parse: the two metadata bodies (`/task`, `/task/stats`) into the plain model.
// One parser is kept for the life of the process so that simdjson's buffers
// are reused and a steady-state cycle allocates nothing here.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "model.h"

namespace emp {

class MetadataParser {
 public:
  // `body` must be readable for simdjson::SIMDJSON_PADDING bytes past its end
  // (padded_string_view says how far). On failure `error` names the problem
  // and, for malformed JSON, the byte offset where it was found.
  bool parse_task(simdjson::padded_string_view body, TaskMeta& out, std::string& error);
  bool parse_stats(simdjson::padded_string_view body, TaskStats& out, std::string& error);

 private:
  bool parse_object(simdjson::padded_string_view body, std::string_view what, simdjson::dom::object& out,
                    std::string& error);
  simdjson::dom::parser parser_;
};

// Byte offset of the first place where `text` stops being JSON, or
// text.size() when it ends early; npos when it is valid JSON. Only used to
// word an error after simdjson rejected a body.
size_t locate_json_error(std::string_view text);

}  // namespace emp
