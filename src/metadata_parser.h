// parse: the two metadata bodies (`/task`, `/task/stats`) into the plain model.
// One parser is kept for the life of the process so that simdjson's buffers
// are reused and a steady-state cycle allocates nothing here.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "json_error_offset.h"
#include "model.h"
#include "padded_body.h"

namespace emp {

class MetadataParser {
 public:
  // On failure `error` names the problem and, for malformed JSON, the byte
  // offset where it was found.
  bool parse_task(const PaddedBody& body, TaskMeta& out, std::string& error);
  bool parse_stats(const PaddedBody& body, TaskStats& out, std::string& error);

 private:
  bool parse_object(const PaddedBody& body, std::string_view what, simdjson::dom::object& out, std::string& error);
  simdjson::dom::parser parser_;
};

}  // namespace emp
