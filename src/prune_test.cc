// The janitor's decisions, worked out by hand: which group or file is
// removed, kept, left alone as odd, or not ours at all.
#include "prune.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace emp;

namespace {

PruneOptions options(int older_than_s = 60) {
  PruneOptions o;
  o.job = "ecs";
  o.older_than = Duration(older_than_s * 1000);
  return o;
}

PushedGroup group(std::vector<std::pair<std::string, std::string>> labels, std::optional<double> push,
                  std::optional<double> failure = 0.0) {
  PushedGroup g;
  g.labels = std::move(labels);
  g.push_time = push;
  g.failure_time = failure;
  return g;
}

GroupDecision one(const PushedGroup& g, double now = 1000, const PruneOptions& o = options()) {
  auto d = decide_groups({g}, now, o);
  REQUIRE(d.size() == 1);
  return d[0];
}

// The shape of Pushgateway 1.5.1's GET /api/v1/metrics (copied from a real
// answer, series shortened).
std::string group_json(std::string labels, std::string push, std::string failure = "\"0\"") {
  std::string out = R"({"labels":)" + labels + R"(,"last_push_successful":true)";
  if (!push.empty())
    out +=
        R"(,"push_time_seconds":{"time_stamp":"2026-12-02T19:28:56Z","type":"GAUGE","help":"x","metrics":[{"labels":)" +
        labels + R"(,"value":)" + push + "}]}";
  if (!failure.empty())
    out +=
        R"(,"push_failure_time_seconds":{"time_stamp":"2026-12-02T19:28:56Z","type":"GAUGE","help":"x","metrics":[{"labels":)" +
        labels + R"(,"value":)" + failure + "}]}";
  out += R"(,"ee_task_cpu_limit":{"time_stamp":"2026-12-02T19:28:56Z","type":"GAUGE","metrics":[{"labels":)" + labels +
         R"(,"value":"0.25"}]}})";
  return out;
}

}  // namespace

TEST_CASE("prune: reads the Pushgateway's group list") {
  const std::string body = R"({"status":"success","data":[)" +
                           group_json(R"({"job":"ecs","task_family":"f","task_id":"abc","task_revision":"3"})",
                                      R"("1.7962397365321796e+09")") +
                           "," +
                           group_json(R"({"job":"ecs","path":"/var/x"})", R"("1796239700")", R"("1796239701.5")") +
                           "," + group_json(R"({"job":"ecs","task_id":"nopush"})", "") + "," +
                           group_json(R"({"job":"ecs","task_id":"word"})", R"("soon")") + "," +
                           R"({"labels":{"job":7}})" + "," + R"("not an object"]})";
  std::vector<PushedGroup> groups;
  std::string error;
  REQUIRE(parse_pushed_groups(PaddedBody(body), groups, error));
  REQUIRE(groups.size() == 6);
  CHECK(groups[0].problem.empty());
  CHECK(groups[0].labels == std::vector<std::pair<std::string, std::string>>{
                                {"job", "ecs"}, {"task_family", "f"}, {"task_id", "abc"}, {"task_revision", "3"}});
  CHECK(groups[0].push_time == doctest::Approx(1796239736.5321796));
  CHECK(groups[0].failure_time == 0.0);
  CHECK(groups[1].labels[1].second == "/var/x");  // decoded, as the API shows it
  CHECK(groups[1].push_time == 1796239700.0);
  CHECK(groups[1].failure_time == 1796239701.5);
  CHECK(!groups[2].push_time);  // no push_time_seconds at all
  CHECK(!groups[3].push_time);  // not a number
  CHECK(groups[4].problem == "label job is not a string");
  CHECK(groups[5].problem == "an entry without a labels object");
}

TEST_CASE("prune: a body that is not the group list removes nothing") {
  std::vector<PushedGroup> groups;
  std::string error;
  CHECK(!parse_pushed_groups(PaddedBody("<html>proxy error</html>"), groups, error));
  CHECK(error.starts_with("the group list is not JSON"));
  CHECK(!parse_pushed_groups(PaddedBody(R"({"status":"error","data":[]})"), groups, error));
  CHECK(!parse_pushed_groups(PaddedBody(R"({"status":"success","data":{}})"), groups, error));
  CHECK(!parse_pushed_groups(PaddedBody(R"({"status":"success","data":[)"), groups, error));  // cut short
  CHECK(parse_pushed_groups(PaddedBody(R"({"status":"success","data":[]})"), groups, error));
  CHECK(groups.empty());
}

TEST_CASE("prune: the Pushgateway's clock from its Date header") {
  // 2026-12-02T19:28:56Z: `date -u -d @1796239736`.
  CHECK(parse_http_date("Wed, 02 Dec 2026 19:28:56 GMT") == 1796239736.0);
  CHECK(parse_http_date("Wednesday, 02-Dec-26 19:28:56 GMT") == 1796239736.0);  // RFC 850
  CHECK(parse_http_date("Wed Dec  2 19:28:56 2026") == 1796239736.0);           // asctime
  CHECK(!parse_http_date(""));
  CHECK(!parse_http_date("yesterday"));
}

TEST_CASE("prune: a group is stale only when its last successful push is older than the threshold") {
  // now 1000, threshold 60 s.
  const GroupDecision stale = one(group({{"job", "ecs"}, {"task_id", "a"}}, 939));
  CHECK(stale.verdict == Verdict::Stale);
  CHECK(stale.age == 61);
  CHECK(stale.path == "/metrics/job/ecs/task_id/a");
  CHECK(stale.reason == "last successful push 61.0s ago, more than 1m");

  const GroupDecision fresh = one(group({{"job", "ecs"}, {"task_id", "a"}}, 950));
  CHECK(fresh.verdict == Verdict::Fresh);
  CHECK(fresh.age == 50);
  CHECK(fresh.path.empty());
  CHECK(one(group({{"job", "ecs"}, {"task_id", "a"}}, 940)).verdict == Verdict::Fresh);  // exactly 60 s: not older
  // Pushed "in the future" (the Pushgateway's clock stepped back): kept.
  CHECK(one(group({{"job", "ecs"}, {"task_id", "a"}}, 1010)).verdict == Verdict::Fresh);
  // A recent failed push does not make an old group fresh: its series are old.
  CHECK(one(group({{"job", "ecs"}, {"task_id", "a"}}, 900, 995)).verdict == Verdict::Stale);
}

TEST_CASE("prune: the janitor's clock plays no part") {
  // The same group judged against two Pushgateway times: only `now` matters,
  // whatever the local clock says.
  const PushedGroup g = group({{"job", "ecs"}, {"task_id", "a"}}, 1796239700);
  CHECK(one(g, 1796239736).verdict == Verdict::Fresh);  // 36 s
  CHECK(one(g, 1796239761).verdict == Verdict::Stale);  // 61 s
}

TEST_CASE("prune: only the job's groups, and only those carrying every --prune.match label") {
  PruneOptions o = options();
  CHECK(one(group({{"job", "other"}, {"task_id", "a"}}, 1), 1000, o).verdict == Verdict::Foreign);
  CHECK(one(group({{"job", "ecs-prune"}}, 1), 1000, o).verdict == Verdict::Foreign);  // the janitor's own group
  o.match = {{"cluster", "prod"}};
  CHECK(one(group({{"job", "ecs"}, {"task_id", "a"}}, 1), 1000, o).verdict == Verdict::Foreign);
  CHECK(one(group({{"cluster", "dev"}, {"job", "ecs"}}, 1), 1000, o).verdict == Verdict::Foreign);
  const GroupDecision d = one(group({{"cluster", "prod"}, {"job", "ecs"}, {"task_id", "a"}}, 1), 1000, o);
  CHECK(d.verdict == Verdict::Stale);
  CHECK(d.path == "/metrics/job/ecs/cluster/prod/task_id/a");
}

TEST_CASE("prune: what cannot be proven stale is left alone") {
  CHECK(one(group({{"job", "ecs"}, {"task_id", "a"}}, std::nullopt)).verdict == Verdict::Odd);
  CHECK(one(group({{"task_id", "a"}}, 1)).verdict == Verdict::Odd);  // no job
  PushedGroup unreadable = group({{"job", "ecs"}}, 1);
  unreadable.problem = "an entry without a labels object";
  CHECK(one(unreadable).verdict == Verdict::Odd);
  // A label the Pushgateway would refuse in a DELETE path.
  const GroupDecision bad = one(group({{"0bad", "x"}, {"job", "ecs"}}, 1));
  CHECK(bad.verdict == Verdict::Odd);
  CHECK(bad.reason.starts_with("its labels cannot name it in a DELETE"));
  CHECK(bad.path.empty());
  // Never a successful push (push_time 0, no series in it): judged by the
  // last failed push, odd when that is unknown too.
  CHECK(one(group({{"job", "ecs"}}, 0, 900)).verdict == Verdict::Stale);
  CHECK(one(group({{"job", "ecs"}}, 0, 980)).verdict == Verdict::Fresh);
  CHECK(one(group({{"job", "ecs"}}, 0, std::nullopt)).verdict == Verdict::Odd);
  CHECK(one(group({{"job", "ecs"}}, 0, 0)).verdict == Verdict::Odd);
}

TEST_CASE("prune: the DELETE names the group exactly, @base64 where the value needs it") {
  CHECK(one(group({{"job", "ecs"}, {"path", "/var/x"}}, 1)).path == "/metrics/job/ecs/path@base64/L3Zhci94");
  CHECK(one(group({{"instance", ""}, {"job", "ecs"}}, 1)).path == "/metrics/job/ecs/instance@base64/=");
  CHECK(one(group({{"job", "ecs"}, {"task_family", "été"}}, 1)).path == "/metrics/job/ecs/task_family@base64/w6l0w6k");
  PruneOptions o = options();
  o.job = "a/b";
  CHECK(one(group({{"job", "a/b"}}, 1), 1000, o).path == "/metrics/job@base64/YS9i");
}

TEST_CASE("prune: the log shows a group's labels escaped") {
  CHECK(describe_labels({{"job", "ecs"}, {"path", "a\"b"}}) == R"({job="ecs",path="a\"b"})");
}

TEST_CASE("prune: only the names the textfile sink writes") {
  CHECK(is_own_textfile_name("ecs_bae32def0ab64f06818e8862e58f8d6d.prom"));
  CHECK(is_own_textfile_name("ecs_9c5f3d4e-2b1a-4c8e-9f00-123456789abc.prom"));
  CHECK(is_own_textfile_name(".ecs_bae32def.prom.4242.tmp"));
  CHECK(!is_own_textfile_name("ecs_.prom"));
  CHECK(!is_own_textfile_name("node.prom"));
  CHECK(!is_own_textfile_name("ecs-metrics-pusher-prune.prom"));  // the janitor's own metrics
  CHECK(!is_own_textfile_name("ecs_abc.prom.bak"));
  CHECK(!is_own_textfile_name("ecs_a b.prom"));
  CHECK(!is_own_textfile_name("ecs_a.b.prom"));
  CHECK(!is_own_textfile_name(".ecs_abc.prom.tmp"));
  CHECK(!is_own_textfile_name(".ecs_abc.prom.12a.tmp"));
  CHECK(!is_own_textfile_name(".node.prom.12.tmp"));
}

TEST_CASE("prune: a textfile goes when it is ours and was last written longer ago than the threshold") {
  TextfileEntry e;
  e.name = "ecs_abc.prom";
  e.regular = true;
  e.own_series = true;
  e.mtime = 900;
  CHECK(decide_textfile(e, 1000, options()).verdict == Verdict::Stale);
  e.mtime = 950;
  CHECK(decide_textfile(e, 1000, options()).verdict == Verdict::Fresh);
  e.mtime = 900;
  e.own_series = false;  // someone else's file with a name like ours
  CHECK(decide_textfile(e, 1000, options()).verdict == Verdict::Odd);
  e.own_series = true;
  e.regular = false;  // a link, a FIFO
  CHECK(decide_textfile(e, 1000, options()).verdict == Verdict::Odd);
  e.regular = true;
  e.problem = "open: Permission denied";
  CHECK(decide_textfile(e, 1000, options()).verdict == Verdict::Odd);
}
