// web_config: --web.config.file, in the Prometheus exporter-toolkit format
// that users of other exporters already have. A documented subset
// (docs/scrape-endpoint.md): tls_server_config with cert_file, key_file,
// client_ca_file and client_auth_type (NoClientCert, VerifyClientCertIfGiven,
// RequireAndVerifyClientCert), and basic_auth_users with bcrypt hashes. Any
// other key is refused by name rather than silently ignored.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace emp {

enum class ClientAuth { None, VerifyIfGiven, RequireAndVerify };

struct WebConfig {
  // TLS: all three files read into memory (PEM); empty cert: plain HTTP.
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;
  ClientAuth client_auth = ClientAuth::None;
  // user → bcrypt hash ($2a$, $2b$ or $2y$).
  std::map<std::string, std::string, std::less<>> users;

  bool tls() const { return !cert_pem.empty(); }
};

// Parses the YAML text; relative file names are read relative to `base_dir`
// (the config file's directory, as exporter-toolkit does). False with one
// line in `error` naming the key at fault.
bool parse_web_config(std::string_view yaml, const std::string& base_dir, WebConfig& out, std::string& error);
// Reads `path` (at most 64 KiB) and parses it.
bool load_web_config(const std::string& path, WebConfig& out, std::string& error);

// Whether `password` matches the bcrypt `hash` (libxcrypt's crypt_rn).
bool bcrypt_matches(const std::string& password, const std::string& hash);

}  // namespace emp
