#include "aws_credentials.h"

#include <arpa/inet.h>

#include <cstdlib>

#include <fmt/format.h>
#include <simdjson.h>

#include "log.h"
#include "rfc3339.h"
#include "small_file.h"

namespace emp {

namespace aws {

bool parse_credentials(std::string_view body, AwsKeys& keys, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    error = "the credentials endpoint's answer is not a JSON object";
    return false;
  }
  AwsKeys k;
  std::string_view v;
  if (root["AccessKeyId"].get(v) != simdjson::SUCCESS || v.empty()) {
    error = "the credentials endpoint's answer has no AccessKeyId";
    return false;
  }
  k.access_key_id = v;
  if (root["SecretAccessKey"].get(v) != simdjson::SUCCESS || v.empty()) {
    error = "the credentials endpoint's answer has no SecretAccessKey";
    return false;
  }
  k.secret_access_key = v;
  if (root["Token"].get(v) == simdjson::SUCCESS) k.session_token = v;
  if (root["Expiration"].get(v) == simdjson::SUCCESS) {
    const std::optional<double> at = parse_rfc3339(v);
    if (!at) {
      error = "the credentials endpoint's Expiration is not an RFC 3339 time";
      return false;
    }
    k.expiration = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(*at)));
  }
  keys = std::move(k);
  return true;
}

WallTime refresh_time(WallTime fetched, WallTime expiration) {
  if (expiration <= fetched) return fetched;
  const auto early = std::min<WallTime::duration>(std::chrono::minutes(5), (expiration - fetched) / 2);
  return expiration - early;
}

bool full_uri_allowed(std::string_view url) {
  if (url.starts_with("https://")) return true;
  if (!url.starts_with("http://")) return false;
  std::string_view rest = url.substr(7);
  const size_t end = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, end);
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
    return host == "[::1]" || host == "[fd00:ec2::23]";
  }
  const std::string name(host.substr(0, host.find(':')));
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    const uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 127 || name == "169.254.170.2" || name == "169.254.170.23";
  }
  return name == "localhost";
}

}  // namespace aws

namespace {
const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}
}  // namespace

std::unique_ptr<AwsSigner> AwsSigner::create(std::string region, std::string service, std::string& error) {
  std::unique_ptr<AwsSigner> s(new AwsSigner());
  s->provider_ = fmt::format("aws:amz:{}:{}", region, service);
  if (CurlHandle probe; curl_easy_setopt(probe.get(), CURLOPT_AWS_SIGV4, s->provider_.c_str()) != CURLE_OK) {
    error = "--remote-write.sigv4.region: this build's libcurl cannot sign with AWS SigV4";
    return nullptr;
  }
  if (const char* id = env("AWS_ACCESS_KEY_ID")) {
    const char* secret = env("AWS_SECRET_ACCESS_KEY");
    if (!secret) {
      error = "--remote-write.sigv4.region: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not";
      return nullptr;
    }
    s->keys_.access_key_id = id;
    s->keys_.secret_access_key = secret;
    if (const char* token = env("AWS_SESSION_TOKEN")) s->keys_.session_token = token;
    s->have_keys_ = true;
  } else if (const char* relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    s->endpoint_ = fmt::format("http://169.254.170.2{}", relative);
  } else if (const char* full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    if (!aws::full_uri_allowed(full)) {
      error =
          "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to loopback or the ECS/EKS credential "
          "addresses (use https)";
      return nullptr;
    }
    s->endpoint_ = full;
    if (const char* token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) s->authorization_ = token;
    if (const char* file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) s->authorization_file_ = file;
  } else {
    error =
        "--remote-write.sigv4.region: no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with "
        "an ECS task role)";
    return nullptr;
  }
  if (!s->endpoint_.empty()) {
    HttpClientOptions o = HttpClientOptions::for_flags("remote-write.sigv4");
    o.use_proxy = false;  // a link-local or loopback address
    o.connect_timeout = Duration(1000);
    o.timeout = Duration(3000);
    o.max_response = 64 * 1024;
    s->endpoint_client_ = HttpClient::create(o, error);
    if (!s->endpoint_client_) return nullptr;
  }
  return s;
}

bool AwsSigner::refresh(SteadyTime deadline, std::string& error) {
  std::string authorization = authorization_;
  if (!authorization_file_.empty()) {
    if (!read_small_file(authorization_file_, 64 << 10, authorization, error)) {
      error = fmt::format("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {}", error);
      return false;
    }
    while (!authorization.empty() && (authorization.back() == '\n' || authorization.back() == '\r'))
      authorization.pop_back();
  }
  if (!authorization.empty()) endpoint_client_->add_secret(authorization);
  const std::string header = authorization.empty() ? std::string() : "Authorization: " + authorization;
  CurlHeaders headers = endpoint_client_->headers_with({header});
  HttpResponse response;
  const HttpRequest request{"GET", &endpoint_, {}, headers.get()};
  if (!endpoint_client_->send(request, deadline, response, error, "AWS credentials endpoint")) return false;
  AwsKeys keys;
  if (!aws::parse_credentials(response.body.view(), keys, error)) return false;
  const auto now = std::chrono::system_clock::now();
  refresh_at_ = keys.expiration ? aws::refresh_time(now, *keys.expiration) : now + std::chrono::minutes(5);
  keys_ = std::move(keys);
  have_keys_ = true;
  return true;
}

bool AwsSigner::sign(HttpClient& client, SteadyTime deadline, std::string& error) {
  const auto now = std::chrono::system_clock::now();
  if (!endpoint_.empty() && (!have_keys_ || (now >= refresh_at_ && now >= next_attempt_))) {
    std::string why;
    if (!refresh(deadline, why)) {
      next_attempt_ = now + std::chrono::seconds(5);  // not once per request while it is down
      const bool usable = have_keys_ && (!keys_.expiration || now < *keys_.expiration);
      if (!usable) {
        error = fmt::format("no valid AWS credentials: {}", why);
        return false;
      }
      log::warn("refreshing the AWS credentials failed; the current ones serve until they expire", {{"err", why}});
    }
  }
  if (keys_.expiration && now >= *keys_.expiration) {
    error = "the AWS credentials expired and could not be refreshed";
    return false;
  }
  CURL* c = client.handle();
  // A libcurl built without crypto auth has no SigV4: say so, rather than
  // send unsigned requests the receiver would refuse.
  if (curl_easy_setopt(c, CURLOPT_AWS_SIGV4, provider_.c_str()) != CURLE_OK) {
    error = "this build's libcurl cannot sign with AWS SigV4 (CURLOPT_AWS_SIGV4 unsupported)";
    return false;
  }
  curl_easy_setopt(c, CURLOPT_USERNAME, keys_.access_key_id.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, keys_.secret_access_key.c_str());
  token_header_ = keys_.session_token.empty() ? std::string() : "x-amz-security-token: " + keys_.session_token;
  return true;
}

std::vector<std::string> AwsSigner::secrets() const {
  std::vector<std::string> out;
  for (const std::string* s : {&keys_.access_key_id, &keys_.secret_access_key, &keys_.session_token})
    if (!s->empty()) out.push_back(*s);
  return out;
}

}  // namespace emp
