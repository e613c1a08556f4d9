// aws: AWS credentials for SigV4-signed remote write (Amazon Managed Service
// for Prometheus), and the signing itself, which libcurl does
// (CURLOPT_AWS_SIGV4): we only find the keys and keep them fresh.
//
// Credentials, first found wins (the AWS SDKs' order for a container):
//  1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN;
//  2. the ECS task role: http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
//  3. AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header from
//     AWS_CONTAINER_AUTHORIZATION_TOKEN or the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
// Endpoint credentials are fetched again well before their Expiration; a
// failed refresh logs one line and the old keys serve until they expire.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duration.h"
#include "http_client.h"

namespace emp {

struct AwsKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // Wall-clock expiry (endpoint credentials only).
  std::optional<std::chrono::system_clock::time_point> expiration;
};

namespace aws {
using WallTime = std::chrono::system_clock::time_point;

// Parses a credentials endpoint's JSON body. False with `error` (never
// quoting the body: it holds the secret).
bool parse_credentials(std::string_view body, AwsKeys& keys, std::string& error);
// When to fetch new keys: half the remaining lifetime, at most 5 minutes,
// before `expiration` (the SDKs refresh 5 minutes early; short-lived test
// credentials would otherwise never be refreshed in time).
WallTime refresh_time(WallTime fetched, WallTime expiration);
// Whether a full credentials URI may be used: https anywhere; plain http only
// to loopback or the ECS/EKS credential addresses (what the SDKs allow).
bool full_uri_allowed(std::string_view url);
}  // namespace aws

class AwsSigner {
 public:
  // Finds the credentials source in the environment (nothing fetched yet).
  // nullptr with `error` when there is none.
  static std::unique_ptr<AwsSigner> create(std::string region, std::string service, std::string& error);

  // Prepares `client`'s handle to sign its next requests: SigV4 with the
  // provider string set explicitly (aws:amz:<region>:<service>; libcurl would
  // otherwise take the service from the host name) and the current keys,
  // fetched or refreshed first when due. False with `error` when no valid key
  // is left.
  bool sign(HttpClient& client, SteadyTime deadline, std::string& error);
  // "x-amz-security-token: …" for temporary keys (a header libcurl then
  // signs), else empty.
  const std::string& token_header() const { return token_header_; }
  // Everything secret this signer handles, for the client's log redaction.
  std::vector<std::string> secrets() const;

 private:
  AwsSigner() = default;
  bool refresh(SteadyTime deadline, std::string& error);

  std::string provider_;  // aws:amz:<region>:<service>
  std::string endpoint_;  // empty: static keys from the environment
  std::string authorization_;
  std::string authorization_file_;
  std::unique_ptr<HttpClient> endpoint_client_;
  AwsKeys keys_;
  bool have_keys_ = false;
  aws::WallTime refresh_at_{};
  aws::WallTime next_attempt_{};  // after a failed refresh
  std::string token_header_;
};

}  // namespace emp
