#include "web_config.h"

#include <crypt.h>
#include <yaml.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "grouping_key.h"
#include "small_file.h"

namespace emp {

namespace {

constexpr size_t kMaxConfigBytes = 64u << 10;
constexpr size_t kMaxPemBytes = 1u << 20;

struct Document {
  yaml_document_t doc{};
  bool loaded = false;
  ~Document() {
    if (loaded) yaml_document_delete(&doc);
  }
};

std::string_view scalar(const yaml_node_t* n) {
  return {reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length};
}

std::string resolve(const std::string& base_dir, std::string_view file) {
  if (file.empty() || file.front() == '/' || base_dir.empty()) return std::string(file);
  return base_dir + "/" + std::string(file);
}

// Calls f(key, value_node) for each pair of a mapping node; false when `n` is not a mapping.
template <class F>
bool each_pair(yaml_document_t* doc, yaml_node_t* n, F&& f) {
  if (!n || n->type != YAML_MAPPING_NODE) return false;
  for (yaml_node_pair_t* p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; ++p) {
    yaml_node_t* k = yaml_document_get_node(doc, p->key);
    yaml_node_t* v = yaml_document_get_node(doc, p->value);
    if (!k || k->type != YAML_SCALAR_NODE || !v) return false;
    if (!f(scalar(k), v)) return false;
  }
  return true;
}

}  // namespace

bool parse_web_config(std::string_view yaml, const std::string& base_dir, WebConfig& out, std::string& error) {
  out = WebConfig();
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    error = "out of memory";
    return false;
  }
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(yaml.data()), yaml.size());
  Document d;
  d.loaded = yaml_parser_load(&parser, &d.doc) != 0;
  if (!d.loaded) {
    error = fmt::format("not valid YAML: {} at line {}", parser.problem ? parser.problem : "syntax error",
                        parser.problem_mark.line + 1);
    yaml_parser_delete(&parser);
    return false;
  }
  yaml_parser_delete(&parser);
  yaml_node_t* root = yaml_document_get_root_node(&d.doc);
  if (!root) return true;  // an empty file: plain HTTP, no auth (as exporter-toolkit)
  if (root->type == YAML_SCALAR_NODE && scalar(root).empty()) return true;

  std::string cert_file, key_file, ca_file;
  std::string why;  // set by a callback that refuses a key
  auto scalar_into = [&](std::string_view key, yaml_node_t* v, std::string& into) {
    if (v->type != YAML_SCALAR_NODE) {
      why = fmt::format("{}: expected a string", key);
      return false;
    }
    into = scalar(v);
    return true;
  };
  const bool shape_ok = each_pair(&d.doc, root, [&](std::string_view key, yaml_node_t* v) {
    if (key == "tls_server_config") {
      if (v->type == YAML_SCALAR_NODE && scalar(v).empty()) return true;  // "tls_server_config:" alone
      return each_pair(&d.doc, v,
                       [&](std::string_view k, yaml_node_t* tv) {
                         if (k == "cert_file") return scalar_into("tls_server_config.cert_file", tv, cert_file);
                         if (k == "key_file") return scalar_into("tls_server_config.key_file", tv, key_file);
                         if (k == "client_ca_file") return scalar_into("tls_server_config.client_ca_file", tv, ca_file);
                         if (k == "client_auth_type") {
                           std::string t;
                           if (!scalar_into("tls_server_config.client_auth_type", tv, t)) return false;
                           if (t == "" || t == "NoClientCert") {
                             out.client_auth = ClientAuth::None;
                           } else if (t == "VerifyClientCertIfGiven") {
                             out.client_auth = ClientAuth::VerifyIfGiven;
                           } else if (t == "RequireAndVerifyClientCert") {
                             out.client_auth = ClientAuth::RequireAndVerify;
                           } else {
                             why = fmt::format(
                                 "tls_server_config.client_auth_type: '{}' is not supported (NoClientCert, "
                                 "VerifyClientCertIfGiven or RequireAndVerifyClientCert)",
                                 printable(t, 60));
                             return false;
                           }
                           return true;
                         }
                         why = fmt::format(
                             "tls_server_config.{}: not supported (only cert_file, key_file, client_ca_file, "
                             "client_auth_type)",
                             printable(k, 60));
                         return false;
                       }) ||
             (why.empty() && (why = "tls_server_config: expected a mapping", false));
    }
    if (key == "basic_auth_users") {
      if (v->type == YAML_SCALAR_NODE && scalar(v).empty()) return true;
      return each_pair(&d.doc, v,
                       [&](std::string_view user, yaml_node_t* hv) {
                         std::string hash;
                         if (!scalar_into("basic_auth_users", hv, hash)) return false;
                         if (!(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"))) {
                           why = fmt::format(
                               "basic_auth_users.{}: not a bcrypt hash ($2a$, $2b$ or $2y$; make one with "
                               "htpasswd -nbBC 10 USER PASSWORD)",
                               printable(user, 60));
                           return false;
                         }
                         if (user.empty() || user.find(':') != std::string_view::npos) {
                           why = fmt::format("basic_auth_users: '{}' is not a usable user name", printable(user, 60));
                           return false;
                         }
                         out.users.emplace(std::string(user), std::move(hash));
                         return true;
                       }) ||
             (why.empty() && (why = "basic_auth_users: expected a mapping of user: bcrypt hash", false));
    }
    why = fmt::format("{}: not supported (only tls_server_config and basic_auth_users)", printable(key, 60));
    return false;
  });
  if (!shape_ok) {
    error = why.empty() ? "expected a mapping at the top level" : why;
    return false;
  }
  if (cert_file.empty() != key_file.empty()) {
    error = "tls_server_config: cert_file and key_file must be given together";
    return false;
  }
  if (!ca_file.empty() && cert_file.empty()) {
    error = "tls_server_config.client_ca_file: needs cert_file and key_file";
    return false;
  }
  if (out.client_auth != ClientAuth::None && ca_file.empty()) {
    error = "tls_server_config.client_auth_type: needs client_ca_file";
    return false;
  }
  std::string e;
  if (!cert_file.empty() && !read_small_file(resolve(base_dir, cert_file), kMaxPemBytes, out.cert_pem, e)) {
    error = "tls_server_config.cert_file: " + e;
    return false;
  }
  if (!key_file.empty() && !read_small_file(resolve(base_dir, key_file), kMaxPemBytes, out.key_pem, e)) {
    error = "tls_server_config.key_file: " + e;
    return false;
  }
  if (!ca_file.empty() && !read_small_file(resolve(base_dir, ca_file), kMaxPemBytes, out.client_ca_pem, e)) {
    error = "tls_server_config.client_ca_file: " + e;
    return false;
  }
  return true;
}

bool load_web_config(const std::string& path, WebConfig& out, std::string& error) {
  std::string text;
  if (!read_small_file(path, kMaxConfigBytes, text, error)) return false;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return parse_web_config(text, dir, out, error);
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // 32 KiB: not on a server thread's stack
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (!out || out[0] == '*') return false;
  const size_t n = std::strlen(out);
  if (n != hash.size()) return false;
  unsigned char diff = 0;  // no early exit: the time does not tell how much matched
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
  return diff == 0;
}

}  // namespace emp
