#include "options.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace emp;

namespace {

struct Parsed {
  ParseOutcome outcome;
  Options options;
  std::string error;
};

// Parses `args` (without argv[0]) with exactly `env` as the environment.
Parsed parse(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::vector<char*> argv{const_cast<char*>("ecs-metrics-pusher")};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  Parsed p;
  p.outcome = parse_options(static_cast<int>(argv.size() - 1), argv.data(), envp.data(), p.options, p.error);
  return p;
}

// A minimal valid set: replay files and the textfile on stdout.
const std::vector<std::string> kBase = {"--metadata.task-file=t.json", "--metadata.stats-file=s.json",
                                        "--textfile.path=-"};

std::vector<std::string> with_base(std::vector<std::string> more) {
  std::vector<std::string> v = kBase;
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

// The configuration error for these flags; fails the test when there is none.
std::string config_error(std::vector<std::string> args, std::vector<std::string> env = {}) {
  Parsed p = parse(std::move(args), std::move(env));
  CHECK(p.outcome == ParseOutcome::ExitConfig);
  return p.error;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("options: environment names follow the flag names") {
  CHECK(env_name_for("pushgateway.url") == "ECS_METRICS_PUSHER_PUSHGATEWAY_URL");
  CHECK(env_name_for("pushgateway.insecure-skip-verify") == "ECS_METRICS_PUSHER_PUSHGATEWAY_INSECURE_SKIP_VERIFY");
  CHECK(env_name_for("delete-on-exit") == "ECS_METRICS_PUSHER_DELETE_ON_EXIT");
  CHECK(env_name_for("interval.jitter") == "ECS_METRICS_PUSHER_INTERVAL_JITTER");
}

TEST_CASE("options: the ECS task-definition default — only the two variables set") {
  Parsed p = parse({}, {"ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/abc-123/",
                        "ECS_METRICS_PUSHER_PUSHGATEWAY_URL=http://pushgateway.monitoring:9091", "PATH=/usr/bin"});
  REQUIRE_MESSAGE(p.outcome == ParseOutcome::Run, p.error);
  CHECK(p.options.metadata.url == "http://169.254.170.2/v4/abc-123");  // trailing slash dropped
  CHECK(p.options.pushgateway.url == "http://pushgateway.monitoring:9091");
  CHECK(p.options.pushgateway.job == "ecs");
  CHECK(p.options.loop.interval == Duration(15000));
  CHECK(p.options.loop.max_jitter() == Duration(3750));
  CHECK(p.options.loop.shutdown_timeout == Duration(10000));
  CHECK_FALSE(p.options.loop.once);
  CHECK_FALSE(p.options.textfile.enabled());
}

TEST_CASE("options: the v3 variable is the fallback, v4 wins over it, --metadata.url over both") {
  CHECK(parse({"--textfile.path=-"}, {"ECS_CONTAINER_METADATA_URI=http://v3/x"}).options.metadata.url == "http://v3/x");
  CHECK(parse({"--textfile.path=-"},
              {"ECS_CONTAINER_METADATA_URI=http://v3/x", "ECS_CONTAINER_METADATA_URI_V4=http://v4/x"})
            .options.metadata.url == "http://v4/x");
  CHECK(parse({"--textfile.path=-", "--metadata.url=http://flag/x"}, {"ECS_CONTAINER_METADATA_URI_V4=http://v4/x"})
            .options.metadata.url == "http://flag/x");
}

TEST_CASE("options: a flag wins over its environment variable, whatever the kind") {
  const std::vector<std::string> env = {"ECS_METRICS_PUSHER_INTERVAL=1m", "ECS_METRICS_PUSHER_LOG_LEVEL=debug",
                                        "ECS_METRICS_PUSHER_ONCE=true", "ECS_METRICS_PUSHER_CONTAINER_EXCLUDE=a*,b*",
                                        "ECS_METRICS_PUSHER_PUSHGATEWAY_JOB=from-env"};
  Parsed env_only = parse(kBase, env);
  REQUIRE_MESSAGE(env_only.outcome == ParseOutcome::Run, env_only.error);
  CHECK(env_only.options.loop.interval == Duration(60000));
  CHECK(env_only.options.log.level == LogLevel::Debug);
  CHECK(env_only.options.loop.once);
  CHECK(env_only.options.containers.exclude == std::vector<std::string>{"a*", "b*"});
  CHECK(env_only.options.pushgateway.job == "from-env");

  Parsed both = parse(with_base({"--interval=250ms", "--log.level=warn", "--once=false", "--container.exclude=c*",
                                 "--pushgateway.job=from-flag"}),
                      env);
  REQUIRE_MESSAGE(both.outcome == ParseOutcome::Run, both.error);
  CHECK(both.options.loop.interval == Duration(250));
  CHECK(both.options.log.level == LogLevel::Warn);
  CHECK_FALSE(both.options.loop.once);
  CHECK(both.options.containers.exclude == std::vector<std::string>{"c*"});  // replaced, not merged
  CHECK(both.options.pushgateway.job == "from-flag");
}

TEST_CASE("options: repeatable flags accumulate; the first use replaces the default") {
  Parsed p = parse(with_base({"--container.exclude=a", "--container.exclude=b,c"}));
  CHECK(p.options.containers.exclude == std::vector<std::string>{"a", "b", "c"});
  CHECK(parse(kBase).options.containers.exclude == std::vector<std::string>{"~internal~ecs~pause"});
  // An empty list variable means "none" (reports the pause container too).
  CHECK(parse(kBase, {"ECS_METRICS_PUSHER_CONTAINER_EXCLUDE="}).options.containers.exclude.empty());
}

TEST_CASE("options: an empty environment variable counts as unset") {
  Parsed p =
      parse(kBase, {"ECS_METRICS_PUSHER_INTERVAL=", "ECS_METRICS_PUSHER_ONCE=", "ECS_METRICS_PUSHER_LOG_LEVEL="});
  REQUIRE_MESSAGE(p.outcome == ParseOutcome::Run, p.error);
  CHECK(p.options.loop.interval == Duration(15000));
  CHECK_FALSE(p.options.loop.once);
  CHECK(p.options.log.level == LogLevel::Info);
}

TEST_CASE("options: --help lists every flag with its environment name and default; --version") {
  const std::string help = help_text();
  for (const auto& entry : describe(Options{})) {
    // Not a structured binding: clang 14 cannot capture those in CAPTURE's lambda.
    const std::string& flag = entry.first;
    if (flag == "pushgateway.password" || flag == "pushgateway.bearer-token") continue;  // env only
    CAPTURE(flag);
    CHECK(contains(help, "--" + flag));
    CHECK(contains(help, "env " + env_name_for(flag)));
  }
  CHECK(contains(help, "--interval=VALUE\n"));
  CHECK(contains(help, "(default: 15s)"));
  CHECK(contains(help, "(default: 10s)"));
  CHECK(contains(help, "ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD"));
  CHECK(contains(help, "Exit codes"));
  CHECK(parse({"--help"}).outcome == ParseOutcome::ExitOk);
  CHECK(parse({"--version"}).outcome == ParseOutcome::ExitOk);
}

TEST_CASE("options: every invalid configuration is one message naming the flag") {
  // Negative or malformed durations, from a flag and from the environment.
  CHECK(contains(config_error(with_base({"--interval=-5s"})), "--interval: '-5s' is not a duration"));
  CHECK(contains(config_error(with_base({"--interval=0"})), "--interval: must be greater than 0"));
  CHECK(contains(config_error(with_base({"--interval=15"})), "--interval:"));
  CHECK(contains(config_error(kBase, {"ECS_METRICS_PUSHER_INTERVAL=-1m"}),
                 "ECS_METRICS_PUSHER_INTERVAL (--interval): '-1m' is not a duration"));
  CHECK(contains(config_error(with_base({"--shutdown-timeout=soon"})), "--shutdown-timeout:"));
  CHECK(contains(config_error(with_base({"--interval=10s", "--interval.jitter=11s"})), "--interval.jitter:"));
  // Unknown log level / format.
  CHECK(contains(config_error(with_base({"--log.level=verbose"})), "--log.level: 'verbose' is not one of"));
  CHECK(contains(config_error(kBase, {"ECS_METRICS_PUSHER_LOG_FORMAT=xml"}), "(--log.format)"));
  // URLs without a scheme or host.
  CHECK(contains(config_error(with_base({"--pushgateway.url=pushgateway:9091"})),
                 "--pushgateway.url: 'pushgateway:9091' has no http:// or https:// scheme"));
  CHECK(contains(config_error(with_base({"--pushgateway.url=http://"})), "--pushgateway.url: 'http://' has no host"));
  CHECK(contains(config_error({"--metadata.url=169.254.170.2/v4", "--textfile.path=-"}), "--metadata.url:"));
  // Both the metadata URL and replay files; one file without the other.
  CHECK(contains(config_error(with_base({"--metadata.url=http://x/v4"})),
                 "--metadata.url and --metadata.task-file/--metadata.stats-file exclude each other"));
  CHECK(contains(config_error({"--metadata.task-file=t.json", "--textfile.path=-"}),
                 "--metadata.task-file and --metadata.stats-file must be given together"));
  // No metadata source at all (outside ECS).
  CHECK(contains(config_error({"--textfile.path=-"}), "--metadata.url: no metadata endpoint"));
  // No sink.
  CHECK(contains(config_error({"--metadata.task-file=t.json", "--metadata.stats-file=s.json"}), "no sink configured"));
  // Unreadable password file.
  CHECK(contains(config_error(with_base({"--pushgateway.url=http://p:9091", "--pushgateway.username=u",
                                         "--pushgateway.password-file=/nonexistent/pw"})),
                 "--pushgateway.password-file: cannot read '/nonexistent/pw'"));
  // Others a user meets.
  CHECK(contains(config_error(with_base({"--delete-on-exit", "--once"})), "--delete-on-exit:"));
  CHECK(contains(config_error(with_base({"--textfile.name=x.prom"})), "--textfile.name: needs --textfile.directory"));
  CHECK(contains(config_error(with_base({"--once=maybe"})), "--once: 'maybe' is not a boolean"));
  CHECK(
      contains(config_error(with_base({"--pushgateway.url=http://p", "--pushgateway.grouping-labels=task_id,task_id"})),
               "listed twice"));
  CHECK(contains(config_error(with_base({"--pushgateway.url=http://p", "--pushgateway.method=patch"})),
                 "--pushgateway.method:"));
  CHECK(contains(config_error(with_base({"--bogus=1"})), "--bogus: unknown flag"));
  CHECK(contains(config_error(with_base({"--interval"})), "--interval: missing value"));
  CHECK(contains(config_error(with_base({"stray"})), "unexpected argument 'stray'"));
  CHECK(contains(config_error(kBase, {"ECS_METRICS_PUSHER_PUSHGATEWAY_URLL=http://p"}),
                 "ECS_METRICS_PUSHER_PUSHGATEWAY_URLL: no such setting"));
}

TEST_CASE("options: abbreviated flags are refused (getopt_long would take them)") {
  CHECK(contains(config_error(with_base({"--shutdown=5s"})),
                 "--shutdown: unknown flag (did you mean --shutdown-timeout?)"));
  CHECK(contains(config_error(with_base({"--onc"})), "did you mean --once?"));
  CHECK(parse(with_base({"--once"})).outcome == ParseOutcome::Run);
}

TEST_CASE("options: secrets come from files or the environment and are redacted in describe()") {
  char path[] = "/tmp/emp-pw-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "s3cr3t-pw\n", 10) == 10);
  close(fd);
  Parsed p = parse(
      with_base({"--pushgateway.url=http://p:9091", "--pushgateway.username=alice",
                 std::string("--pushgateway.password-file=") + path, "--pushgateway.header=X-Api-Key: k3y-value"}));
  unlink(path);
  REQUIRE_MESSAGE(p.outcome == ParseOutcome::Run, p.error);
  CHECK(p.options.pushgateway.http.password == "s3cr3t-pw");  // final newline dropped
  bool saw_password = false;
  for (const auto& [k, v] : describe(p.options)) {
    CHECK_FALSE(contains(v, "s3cr3t"));
    CHECK_FALSE(contains(v, "k3y-value"));
    if (k == "pushgateway.password") saw_password = v == "<redacted>";
  }
  CHECK(saw_password);

  Parsed t =
      parse(with_base({"--pushgateway.url=http://p:9091"}), {"ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN=t0ken"});
  REQUIRE_MESSAGE(t.outcome == ParseOutcome::Run, t.error);
  CHECK(t.options.pushgateway.http.bearer_token == "t0ken");
  for (const auto& [k, v] : describe(t.options)) CHECK_FALSE(contains(v, "t0ken"));
}

TEST_CASE("options: the scrape endpoint") {
  const std::vector<std::string> replay = {"--metadata.task-file=t.json", "--metadata.stats-file=s.json"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> v = replay;
    v.insert(v.end(), more.begin(), more.end());
    return v;
  };
  // Scrape-only: no push sink, a listen address: valid.
  Parsed p = parse(with({"--web.listen-address=:9546"}));
  if (web_server_available()) {
    REQUIRE_MESSAGE(p.outcome == ParseOutcome::Run, p.error);
    CHECK(p.options.web.listen_address == ":9546");
    CHECK(p.options.web.telemetry_path == "/metrics");
    CHECK_FALSE(p.options.web.metadata_passthrough);
    // Also from the environment, as a task definition sets it.
    Parsed e = parse(replay, {"ECS_METRICS_PUSHER_WEB_LISTEN_ADDRESS=:9546"});
    REQUIRE_MESSAGE(e.outcome == ParseOutcome::Run, e.error);
    CHECK(e.options.web.enabled());
    CHECK(contains(config_error(with({"--web.listen-address=:9546", "--once"})), "cannot be used with --once"));
    // The original exporter's port variable: its task definitions run unchanged;
    // the flag wins over it, --once ignores it, a non-port is named.
    Parsed original = parse(replay, {"ECS_METRICS_EXPORTER_PORT=9546"});
    REQUIRE_MESSAGE(original.outcome == ParseOutcome::Run, original.error);
    CHECK(original.options.web.listen_address == ":9546");
    CHECK(parse(with({"--web.listen-address=127.0.0.1:0"}), {"ECS_METRICS_EXPORTER_PORT=9546"})
              .options.web.listen_address == "127.0.0.1:0");
    CHECK(contains(parse(replay, {"ECS_METRICS_EXPORTER_PORT=http"}).error, "$ECS_METRICS_EXPORTER_PORT: 'http'"));
    CHECK(contains(parse(with({"--once"}), {"ECS_METRICS_EXPORTER_PORT=9546"}).error, "no sink configured"));
    CHECK(contains(config_error(with({"--web.listen-address=9546"})), "has no :port"));
    CHECK(contains(config_error(with({"--web.listen-address=:9546", "--web.telemetry-path=metrics"})),
                   "must start with '/'"));
    CHECK(contains(config_error(with({"--web.listen-address=:9546", "--web.telemetry-path=/task"})), "/task"));
  } else {
    CHECK(contains(p.error, "-Dweb=disabled"));
  }
  CHECK(contains(config_error(with({"--textfile.path=-", "--web.enable-metadata-passthrough"})),
                 "need --web.listen-address"));
  CHECK(contains(config_error(with({"--textfile.path=-", "--web.config.file=w.yml"})), "need --web.listen-address"));
}

TEST_CASE("options: remote write rules") {
  const std::string rw =
      "--remote-write.url=https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write";
  // A remote-write receiver alone is a sink.
  Parsed p = parse({"--metadata.task-file=t.json", "--metadata.stats-file=s.json", rw});
  CHECK(p.outcome == ParseOutcome::Run);
  CHECK(p.options.remote_write.sigv4_service == "aps");
  CHECK(p.options.remote_write.buffer == Duration(600000));
  CHECK(contains(config_error(with_base({"--remote-write.url=https://u:p@example.com/w"})), "user name or password"));
  CHECK(contains(config_error(with_base({rw, "--remote-write.sigv4.region=eu-west-1", "--remote-write.username=u"})),
                 "cannot be combined"));
  // libcurl would skip signing (Authorization) or sign a forged date (X-Amz-*).
  CHECK(contains(config_error(with_base(
                     {rw, "--remote-write.sigv4.region=eu-west-1", "--remote-write.header=Authorization: Bearer x"})),
                 "cannot be set with --remote-write.sigv4.region"));
  CHECK(contains(config_error(with_base({rw, "--remote-write.sigv4.region=eu-west-1",
                                         "--remote-write.header=X-Amz-Date: 20200101T000000Z"})),
                 "x-amz-date"));
  CHECK(contains(config_error(with_base({rw, "--remote-write.buffer=0s"})),
                 "--remote-write.buffer: must be greater than 0"));
  // Secrets from the environment only.
  p = parse(with_base({rw, "--remote-write.username=u"}), {"ECS_METRICS_PUSHER_REMOTE_WRITE_PASSWORD=s3cr3t"});
  CHECK(p.outcome == ParseOutcome::Run);
  CHECK(p.options.remote_write.http.password == "s3cr3t");
}
