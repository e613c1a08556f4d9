#include "web_config.h"
#include "web_server.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace emp;
namespace fs = std::filesystem;

namespace {

// htpasswd -nbBC 4 alice s3cret (cost 4: fast enough for a unit test)
constexpr const char* kHash = "$2y$04$dneOIbFysSLSGfOxgmzGoOYm7h27aUhoxrHbisnKw2hGW6gK1vaDG";

struct Dir {
  fs::path path;
  Dir() {
    char tmpl[] = "/tmp/emp-webconfig-XXXXXX";
    path = mkdtemp(tmpl);
    std::ofstream(path / "c.pem") << "CERT";
    std::ofstream(path / "k.pem") << "KEY";
    std::ofstream(path / "ca.pem") << "CA";
  }
  ~Dir() { fs::remove_all(path); }
};

bool parse(std::string_view yaml, const Dir& d, WebConfig& c, std::string& e) {
  return parse_web_config(yaml, d.path.string(), c, e);
}

}  // namespace

TEST_CASE("web config: the exporter-toolkit subset") {
  Dir d;
  WebConfig c;
  std::string e;
  REQUIRE_MESSAGE(parse(std::string("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n"
                                    "  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n"
                                    "basic_auth_users:\n  alice: '") +
                            kHash + "'\n",
                        d, c, e),
                  e);
  CHECK(c.tls());
  CHECK(c.cert_pem == "CERT");  // relative to the config file's directory
  CHECK(c.key_pem == "KEY");
  CHECK(c.client_ca_pem == "CA");
  CHECK(c.client_auth == ClientAuth::RequireAndVerify);
  REQUIRE(c.users.size() == 1);
  CHECK(c.users.at("alice") == kHash);

  CHECK(parse("", d, c, e));  // empty: plain HTTP, no auth
  CHECK_FALSE(c.tls());
  CHECK(c.users.empty());
  CHECK(parse(std::string("basic_auth_users:\n  alice: ") + kHash + "\n", d, c, e));
  CHECK_FALSE(c.tls());
}

TEST_CASE("web config: what is refused, by name") {
  Dir d;
  WebConfig c;
  std::string e;
  CHECK_FALSE(parse("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  min_version: TLS13\n", d, c, e));
  CHECK(e.find("tls_server_config.min_version: not supported") != std::string::npos);
  CHECK_FALSE(parse("http_server_config:\n  http2: false\n", d, c, e));
  CHECK(e.find("http_server_config: not supported") != std::string::npos);
  CHECK_FALSE(parse("tls_server_config:\n  cert_file: c.pem\n", d, c, e));
  CHECK(e.find("together") != std::string::npos);
  CHECK_FALSE(parse("tls_server_config:\n  cert_file: c.pem\n  key_file: missing.pem\n", d, c, e));
  CHECK(e.find("tls_server_config.key_file: cannot read") != std::string::npos);
  CHECK_FALSE(parse("basic_auth_users:\n  alice: plain-password\n", d, c, e));
  CHECK(e.find("not a bcrypt hash") != std::string::npos);
  CHECK_FALSE(
      parse("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_auth_type: RequireAnyClientCert\n", d,
            c, e));
  CHECK(e.find("RequireAnyClientCert' is not supported") != std::string::npos);
  CHECK_FALSE(parse(
      "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_auth_type: RequireAndVerifyClientCert\n", d,
      c, e));
  CHECK(e.find("needs client_ca_file") != std::string::npos);
  CHECK_FALSE(parse("[1, 2", d, c, e));
  CHECK(e.find("not valid YAML") != std::string::npos);
  CHECK_FALSE(parse("- a\n- b\n", d, c, e));
  CHECK_FALSE(parse("basic_auth_users:\n  alice: [1]\n", d, c, e));
}

TEST_CASE("web config: bcrypt via libxcrypt") {
  CHECK(bcrypt_matches("s3cret", kHash));
  CHECK_FALSE(bcrypt_matches("s3cret!", kHash));
  CHECK_FALSE(bcrypt_matches("", kHash));
  CHECK_FALSE(bcrypt_matches("s3cret", "$2y$04$short"));
}

TEST_CASE("listen address") {
  std::string host, e;
  unsigned port = 0;
  CHECK(parse_listen_address(":9546", host, port, e));
  CHECK(host.empty());
  CHECK(port == 9546);
  CHECK(parse_listen_address("[::1]:80", host, port, e));
  CHECK(host == "::1");
  CHECK_FALSE(parse_listen_address("9546", host, port, e));
  CHECK_FALSE(parse_listen_address(":99999", host, port, e));
  CHECK_FALSE(parse_listen_address(":http", host, port, e));
}
