#include "small_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

using emp::read_small_file;

namespace {
std::string temp_dir() {
  char dir[] = "/tmp/emp-small-file-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}
void write(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}
}  // namespace

TEST_CASE("small_file: a regular file whole, a limit, a FIFO and a directory refused without waiting") {
  const std::string dir = temp_dir();
  std::string out, error;
  write(dir + "/secret", "s3cret\n");
  CHECK(read_small_file(dir + "/secret", 64, out, error));
  CHECK(out == "s3cret\n");
  const std::string big(10000, 'x');  // more than one read()
  write(dir + "/big", big);
  CHECK(read_small_file(dir + "/big", 10000, out, error));
  CHECK(out == big);
  CHECK_FALSE(read_small_file(dir + "/big", 9999, out, error));
  CHECK(error == "'" + dir + "/big' is larger than 9999 bytes");
  CHECK_FALSE(read_small_file(dir + "/missing", 64, out, error));
  CHECK(error == "cannot read '" + dir + "/missing': No such file or directory");
  // A FIFO nobody writes to: refused at once, not waited on.
  REQUIRE(mkfifo((dir + "/fifo").c_str(), 0600) == 0);
  CHECK_FALSE(read_small_file(dir + "/fifo", 64, out, error));
  CHECK(error == "'" + dir + "/fifo' is not a regular file");
  CHECK_FALSE(read_small_file(dir, 64, out, error));
  CHECK(error == "'" + dir + "' is not a regular file");
  for (const char* f : {"/secret", "/big", "/fifo"}) unlink((dir + f).c_str());
  rmdir(dir.c_str());
}
