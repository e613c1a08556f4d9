#include "grouping_key.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace emp;

TEST_CASE("valid_utf8 follows RFC 3629") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii / with spaces"));
  CHECK(valid_utf8("été"));
  CHECK(valid_utf8("\xE2\x82\xAC"));               // €
  CHECK(valid_utf8("\xF0\x9F\x90\xB3"));           // 🐳
  CHECK(valid_utf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF
  CHECK(valid_utf8(std::string_view("a\0b", 3)));  // NUL is a character

  CHECK_FALSE(valid_utf8("\xFB\xFF"));          // the bytes of peers.md §2.6, which poison a Pushgateway
  CHECK_FALSE(valid_utf8("\x80"));              // lone continuation
  CHECK_FALSE(valid_utf8("\xC3"));              // truncated
  CHECK_FALSE(valid_utf8("\xE2\x82"));          // truncated
  CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(valid_utf8("ok\xFF"));
}

TEST_CASE("valid_utf8 (simdjson) agrees with the byte-at-a-time reference on every 1-4 byte prefix class") {
  // All two-byte sequences, and three- and four-byte ones over the lead bytes
  // and the boundary continuation bytes where the RFC 3629 ranges change.
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  int checked = 0;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char two[] = {static_cast<char>(a), static_cast<char>(b)};
      CHECK(valid_utf8(std::string_view(two, 2)) == valid_utf8_reference(std::string_view(two, 2)));
      ++checked;
    }
    for (unsigned char b : edges)
      for (unsigned char c : edges)
        for (unsigned char d : edges) {
          const char four[] = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
          CHECK(valid_utf8(std::string_view(four, 3)) == valid_utf8_reference(std::string_view(four, 3)));
          CHECK(valid_utf8(std::string_view(four, 4)) == valid_utf8_reference(std::string_view(four, 4)));
          checked += 2;
        }
  }
  CHECK(checked == 65536 + 256 * 20 * 20 * 20 * 2);
}

TEST_CASE("label names") {
  CHECK(valid_label_name("task_id"));
  CHECK(valid_label_name("_x"));
  CHECK(valid_label_name("A9"));
  CHECK_FALSE(valid_label_name(""));
  CHECK_FALSE(valid_label_name("0bad"));  // the Pushgateway: 400 improper label name
  CHECK_FALSE(valid_label_name("__x"));
  CHECK_FALSE(valid_label_name("a-b"));
  CHECK_FALSE(valid_label_name("a.b"));
  CHECK_FALSE(valid_label_name("été"));
}

TEST_CASE("base64url: RFC 4648 vectors, URL-safe alphabet, no padding") {
  CHECK(base64url("") == "");
  CHECK(base64url("f") == "Zg");
  CHECK(base64url("fo") == "Zm8");
  CHECK(base64url("foo") == "Zm9v");
  CHECK(base64url("foob") == "Zm9vYg");
  CHECK(base64url("fooba") == "Zm9vYmE");
  CHECK(base64url("foobar") == "Zm9vYmFy");
  CHECK(base64url("/var/tmp") == "L3Zhci90bXA");  // peers.md §2.2 (padded there)
  CHECK(base64url("a/b job") == "YS9iIGpvYg");
  CHECK(base64url("\xFB\xFF") == "-_8");  // '+' and '/' of the standard alphabet become '-' and '_'
}

TEST_CASE("decode_base64url accepts padded and unpadded, rejects the rest") {
  std::string out;
  CHECK(decode_base64url("L3Zhci90bXA=", out));
  CHECK(out == "/var/tmp");
  CHECK(decode_base64url("L3Zhci90bXA", out));
  CHECK(out == "/var/tmp");
  CHECK(decode_base64url("", out));
  CHECK(out.empty());
  CHECK_FALSE(decode_base64url("+/8=", out));  // standard alphabet
  CHECK_FALSE(decode_base64url("Z", out));     // 6 bits cannot make a byte
  CHECK_FALSE(decode_base64url("Zh", out));    // non-zero leftover bits: not canonical
  CHECK_FALSE(decode_base64url("Zg=", out));   // padding that does not complete a group
  CHECK_FALSE(decode_base64url("%%%", out));
}

TEST_CASE("base64url round-trips random bytes") {
  std::mt19937 rng(42);
  std::string in, back;
  for (int n = 0; n < 2000; ++n) {
    in.resize(rng() % 40);
    for (char& c : in) c = static_cast<char>(rng());
    REQUIRE(decode_base64url(base64url(in), back));
    CHECK(back == in);
  }
}

TEST_CASE("which values are sent as @base64") {
  CHECK_FALSE(needs_base64("web-1.2_x~"));
  CHECK_FALSE(needs_base64("0123456789abcdef0123456789abcdef"));
  CHECK(needs_base64(""));
  CHECK(needs_base64("."));  // would be removed as a dot segment
  CHECK(needs_base64(".."));
  CHECK_FALSE(needs_base64("..."));
  CHECK(needs_base64("a/b"));
  CHECK(needs_base64("a b"));
  CHECK(needs_base64("a%2Fb"));  // the Pushgateway decodes %2F before splitting
  CHECK(needs_base64("été"));
  CHECK(needs_base64("a@b"));
  CHECK(needs_base64("a+b"));
}

TEST_CASE("build_grouping_path: plain, base64 and empty values") {
  std::string out, error;
  REQUIRE(build_grouping_path("ecs", {{"task_family", "web"}, {"task_revision", "7"}, {"task_id", "0123abcd"}}, out,
                              error));
  CHECK(out == "/metrics/job/ecs/task_family/web/task_revision/7/task_id/0123abcd");

  out = "http://pgw:9091/prefix";
  REQUIRE(build_grouping_path("a/b job", {{"path", "/var/tmp"}, {"empty", ""}, {"name", "été"}}, out, error));
  CHECK(out ==
        "http://pgw:9091/prefix/metrics/job@base64/YS9iIGpvYg/path@base64/L3Zhci90bXA/empty@base64/=/name@base64/"
        "w6l0w6k");
}

TEST_CASE("build_grouping_path refuses bad keys before anything is sent") {
  std::string out, error;
  CHECK_FALSE(build_grouping_path("", {}, out, error));
  CHECK(error.find("job must not be empty") != std::string::npos);

  CHECK_FALSE(build_grouping_path("ecs", {{"0bad", "x"}}, out, error));
  CHECK(error.find("\"0bad\" is not a valid label name") != std::string::npos);

  CHECK_FALSE(build_grouping_path("ecs", {{"__name__", "x"}}, out, error));
  CHECK_FALSE(build_grouping_path("ecs", {{"job", "x"}}, out, error));
  CHECK(error.find("only be set as the job") != std::string::npos);

  CHECK_FALSE(build_grouping_path("ecs", {{"a", "1"}, {"b", "2"}, {"a", "3"}}, out, error));
  CHECK(error.find("\"a\" appears twice") != std::string::npos);

  CHECK_FALSE(build_grouping_path("ecs", {{"k2", "\xFB\xFF"}}, out, error));
  CHECK(error.find("value of \"k2\" is not valid UTF-8 (\"\\xfb\\xff\")") != std::string::npos);

  CHECK_FALSE(build_grouping_path("j\xC3", {}, out, error));
  CHECK(error.find("job") != std::string::npos);
  CHECK(out.empty());  // nothing appended on failure
}

TEST_CASE("printable keeps UTF-8, escapes the rest, cuts on a character boundary") {
  CHECK(printable("plain") == "plain");
  CHECK(printable("line1\nline2\t") == "line1\\x0aline2\\x09");
  CHECK(printable("été") == "été");
  CHECK(printable("\xFB\xFF") == "\\xfb\\xff");
  CHECK(printable("abcdef", 3) == "abc…");
  CHECK(printable("aé", 2) == "a…");  // é is two bytes: not cut in half
  CHECK(valid_utf8(printable(std::string(300, '\xFF'), 200)));
}
