// Cycle microbenchmarks (issue 6): parse → metrics → text for every bundled
// real capture and for synthetic tasks of 1…1000 containers, next to the
// floor (simdjson parsing the same bytes, copying the same output bytes) and
// next to prometheus-cpp's text serializer on the same metric families.
//
// Run through bench/run.sh, which turns the JSON output into the table of
// bench/README.md. Counters per benchmark:
//   allocs    heap allocations per iteration, steady state (counting operator new below)
//   in_bytes  bytes of the two metadata bodies; out_bytes: bytes of the text
//   containers  containers in the task body
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <simdjson.h>
#include <zlib.h>

#include "collector.h"
#include "cycle.h"
#include "metadata_parser.h"
#include "metadata_source.h"
#include "text_format.h"

// ---------------------------------------------------------------------------
// Counting allocator: every operator new in this binary bumps one counter, so
// a benchmark can report the allocations of its timed loop.

namespace {
std::atomic<uint64_t> g_allocations{0};

void* counted_alloc(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* counted_alloc_aligned(size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const size_t a = static_cast<size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(size_t size) { return counted_alloc(size); }
void* operator new[](size_t size) { return counted_alloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void* operator new(size_t size, std::align_val_t align) { return counted_alloc_aligned(size, align); }
void* operator new[](size_t size, std::align_val_t align) { return counted_alloc_aligned(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace emp;

// Counts the allocations of a benchmark's timed loop and reports them per iteration.
class AllocationCounter {
 public:
  AllocationCounter() : start_(g_allocations.load(std::memory_order_relaxed)) {}
  void report(benchmark::State& state) const {
    const double n = static_cast<double>(g_allocations.load(std::memory_order_relaxed) - start_);
    state.counters["allocs"] = benchmark::Counter(n / static_cast<double>(state.iterations()));
  }

 private:
  uint64_t start_;
};

// ---------------------------------------------------------------------------
// Inputs

struct Case {
  std::string name;  // "real/<source>/<capture>" or "synthetic/<n>"
  PaddedBody task;
  PaddedBody stats;
  size_t containers = 0;
};

PaddedBody read_file(const std::filesystem::path& p) {
  simdjson::padded_string body;
  if (simdjson::padded_string::load(p.string()).get(body)) {
    fmt::print(stderr, "cycle_bench: cannot read {}\n", p.string());
    std::exit(1);
  }
  return PaddedBody(std::string_view(body.data(), body.size()));
}

std::filesystem::path source_root() {
  if (const char* s = std::getenv("EMP_SRC")) return s;
  return EMP_SOURCE_ROOT;
}

// Every `<name>.task.json` with a `<name>.stats.json` beside it.
std::vector<Case> real_cases() {
  std::vector<Case> cases;
  const auto fixtures = source_root() / "tests" / "fixtures";
  std::vector<std::filesystem::path> tasks;
  for (const auto& e : std::filesystem::recursive_directory_iterator(fixtures)) {
    const std::string file = e.path().filename().string();
    if (file.size() > 10 && file.ends_with(".task.json")) tasks.push_back(e.path());
  }
  std::sort(tasks.begin(), tasks.end());
  for (const auto& task : tasks) {
    std::string stem = task.filename().string();
    stem.resize(stem.size() - std::string_view(".task.json").size());
    const auto stats = task.parent_path() / (stem + ".stats.json");
    if (!std::filesystem::exists(stats)) continue;
    cases.push_back({"real/" + task.parent_path().filename().string() + "/" + stem, read_file(task), read_file(stats)});
  }
  return cases;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// A task of `n` containers cloned from one running container of a real
// Fargate capture: each clone gets its own DockerId (Fargate shape,
// `<task id>-<digits>`) and its own name, in /task and /task/stats alike.
Case synthetic_case(const Case& base, std::string_view template_name, size_t n) {
  simdjson::dom::parser parser;
  simdjson::dom::object task = parser.parse(base.task.padded()).get_object().value();
  std::string template_id;
  std::string template_container;
  const simdjson::dom::array containers = task["Containers"].get_array().value();
  for (simdjson::dom::element c : containers) {
    if (c["Name"].get_string().value() == template_name) {
      template_id = std::string(c["DockerId"].get_string().value());
      template_container = simdjson::minify(c);
    }
  }
  if (template_id.empty()) {
    fmt::print(stderr, "cycle_bench: no container {} in {}\n", template_name, base.name);
    std::exit(1);
  }
  const std::string task_id = template_id.substr(0, template_id.find('-'));
  const std::string quoted_name = fmt::format("\"{}\"", template_name);
  auto id_of = [&](size_t i) { return fmt::format("{}-{}", task_id, 1000000000 + i); };
  auto clone = [&](const std::string& text, size_t i) {
    std::string s = text;
    replace_all(s, template_id, id_of(i));
    replace_all(s, quoted_name, fmt::format("\"{}-{}\"", template_name, i));
    return s;
  };

  std::string out = "{";
  for (auto [key, value] : task) {
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":", std::string_view(key));
    if (key != "Containers") {
      out += simdjson::minify(value);
      continue;
    }
    out += '[';
    for (size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      out += clone(template_container, i);
    }
    out += ']';
  }
  out += '}';

  simdjson::dom::parser stats_parser;
  simdjson::dom::object stats = stats_parser.parse(base.stats.padded()).get_object().value();
  const std::string template_stats = simdjson::minify(stats[template_id].value());
  std::string stats_out = "{";
  for (size_t i = 0; i < n; ++i) {
    if (i) stats_out += ',';
    stats_out += fmt::format("\"{}\":", id_of(i));
    stats_out += clone(template_stats, i);
  }
  stats_out += '}';
  return {fmt::format("synthetic/{}", n), PaddedBody(out), PaddedBody(stats_out)};
}

// ---------------------------------------------------------------------------
// The cycle as it ships (Cycle::run), with the two ends that touch the world
// replaced: the bodies come from memory, and the sink renders the text exactly
// as the textfile sink does but writes it nowhere.

class MemorySource final : public MetadataSource {
 public:
  explicit MemorySource(const Case& c) : case_(c) {}
  FetchResult fetch(MetadataBodies& out, std::string&) override {
    out.task.assign(case_.task.view());
    out.stats.assign(case_.stats.view());
    return FetchResult::Ok;
  }

 private:
  const Case& case_;
};

class RenderSink final : public Sink {
 public:
  explicit RenderSink(std::string* text) : text_(text) {}
  std::string_view name() const override { return "textfile"; }
  bool deliver(const Delivery& d, std::string&) override {
    // What TextfileSink::deliver adds: the task id on every series.
    identity_labels(d.identity, container_extra_, exporter_extra_);
    render_text(d.set, ExtraLabels{container_extra_, exporter_extra_}, *text_);
    benchmark::DoNotOptimize(text_->data());
    return true;
  }
  bool remove(const TaskIdentity&, SteadyTime, std::string&) override { return true; }

 private:
  std::string* text_;
  std::string container_extra_;
  std::string exporter_extra_;
};

// Deliveries here never wait on anything; the deadline only has to be later.
SteadyTime far_deadline() { return std::chrono::steady_clock::now() + std::chrono::hours(1); }

struct Pipeline {
  explicit Pipeline(const Case& c) {
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(std::make_unique<RenderSink>(&text));
    cycle = std::make_unique<Cycle>(std::make_unique<MemorySource>(c), std::move(sinks), ContainerFilter{});
  }
  std::string text;
  std::unique_ptr<Cycle> cycle;
};

// Parsed once, for the stage benchmarks.
struct Prepared {
  MetadataParser parser;
  TaskMeta task;
  TaskStats stats;
  Collector collector;
  MetricSet set;
  std::string container_extra;
  std::string exporter_extra;
  std::string text;
  std::string error;

  explicit Prepared(const Case& c) {
    if (!parser.parse_task(c.task, task, error) || !parser.parse_stats(c.stats, stats, error)) {
      fmt::print(stderr, "cycle_bench: {}: {}\n", c.name, error);
      std::exit(1);
    }
    collector.collect(task, stats, set);
    TaskIdentity id = identity_of(task);
    container_extra = fmt::format("task_id=\"{}\"", id.task_id);
    exporter_extra =
        fmt::format("task_family=\"{}\",task_revision=\"{}\",{}", id.task_family, id.task_revision, container_extra);
    render_text(set, ExtraLabels{container_extra, exporter_extra}, text);
  }
};

void set_sizes(benchmark::State& state, const Case& c, size_t out_bytes) {
  state.counters["in_bytes"] = static_cast<double>(c.task.size() + c.stats.size());
  state.counters["out_bytes"] = static_cast<double>(out_bytes);
  state.counters["containers"] = static_cast<double>(c.containers);
}

// ---------------------------------------------------------------------------
// Benchmarks

void BM_Cycle(benchmark::State& state, const Case* c) {
  Pipeline p(*c);
  for (int i = 0; i < 3; ++i)
    p.cycle->run(far_deadline());  // reach steady state: buffers sized, retained containers known
  AllocationCounter allocs;
  for (auto _ : state) {
    CycleResult r = p.cycle->run(far_deadline());
    benchmark::DoNotOptimize(r);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c->task.size() + c->stats.size())));
  set_sizes(state, *c, p.text.size());
}

void BM_Parse(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  AllocationCounter allocs;
  for (auto _ : state) {
    bool ok = p.parser.parse_task(c->task, p.task, p.error) && p.parser.parse_stats(c->stats, p.stats, p.error);
    benchmark::DoNotOptimize(ok);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c->task.size() + c->stats.size())));
  set_sizes(state, *c, p.text.size());
}

// metrics + text: the stage whose steady state should not allocate.
void BM_MetricsText(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  AllocationCounter allocs;
  for (auto _ : state) {
    p.set.clear();
    p.collector.collect(p.task, p.stats, p.set);
    render_text(p.set, ExtraLabels{p.container_extra, p.exporter_extra}, p.text);
    benchmark::DoNotOptimize(p.text.data());
  }
  allocs.report(state);
  set_sizes(state, *c, p.text.size());
}

void BM_Collect(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  AllocationCounter allocs;
  for (auto _ : state) {
    p.set.clear();
    p.collector.collect(p.task, p.stats, p.set);
    benchmark::DoNotOptimize(p.set);
  }
  allocs.report(state);
  set_sizes(state, *c, p.text.size());
}

void BM_Render(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  AllocationCounter allocs;
  for (auto _ : state) {
    render_text(p.set, ExtraLabels{p.container_extra, p.exporter_extra}, p.text);
    benchmark::DoNotOptimize(p.text.data());
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
  set_sizes(state, *c, p.text.size());
}

// Floor 1: simdjson alone, DOM-parsing the same two bodies with a reused parser.
void BM_FloorParse(benchmark::State& state, const Case* c) {
  simdjson::dom::parser parser;
  AllocationCounter allocs;
  for (auto _ : state) {
    simdjson::dom::element task, stats;
    auto e1 = parser.parse(c->task.padded()).get(task);
    benchmark::DoNotOptimize(e1);
    auto e2 = parser.parse(c->stats.padded()).get(stats);
    benchmark::DoNotOptimize(e2);
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c->task.size() + c->stats.size())));
  set_sizes(state, *c, 0);
}

// Floor 2: producing the same number of output bytes, without formatting them.
void BM_FloorCopyOut(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  std::string buffer(p.text.size(), '\0');
  for (auto _ : state) {
    std::memcpy(buffer.data(), p.text.data(), p.text.size());
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
  set_sizes(state, *c, p.text.size());
}

void BM_FloorWriteDevNull(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  for (auto _ : state) {
    ssize_t n = ::write(fd, p.text.data(), p.text.size());
    benchmark::DoNotOptimize(n);
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
  set_sizes(state, *c, p.text.size());
}

// The same families as prometheus-cpp's model: labels as name/value pairs.
std::vector<prometheus::MetricFamily> to_prometheus_cpp(const Prepared& p) {
  auto split = [](std::string_view joined, std::vector<prometheus::ClientMetric::Label>& out) {
    // `a="x",b="y"`, values escaped by append_escaped_label_value.
    size_t i = 0;
    while (i < joined.size()) {
      const size_t eq = joined.find('=', i);
      prometheus::ClientMetric::Label l{std::string(joined.substr(i, eq - i)), {}};
      size_t j = eq + 2;
      for (; joined[j] != '"'; ++j) {
        if (joined[j] == '\\') {
          ++j;
          l.value += joined[j] == 'n' ? '\n' : joined[j];
        } else {
          l.value += joined[j];
        }
      }
      out.push_back(std::move(l));
      i = j + 2;  // past `",`
    }
  };
  std::vector<prometheus::MetricFamily> families;
  for (const MetricDef& d : kMetricDefs) {
    const auto& samples = p.set.samples(d.id);
    if (samples.empty()) continue;
    prometheus::MetricFamily f;
    f.name = std::string(d.name);
    f.help = std::string(d.help);
    f.type = d.type == MetricType::Counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    for (const auto& s : samples) {
      prometheus::ClientMetric m;
      split(p.set.labels(s.labels), m.label);
      split(d.scope == MetricScope::Container ? p.container_extra : p.exporter_extra, m.label);
      if (d.type == MetricType::Counter)
        m.counter.value = s.value;
      else
        m.gauge.value = s.value;
      f.metric.push_back(std::move(m));
    }
    families.push_back(std::move(f));
  }
  return families;
}

// The call a prometheus-cpp user makes: Serialize(families) → std::string.
void BM_PromCppSerialize(benchmark::State& state, const Case* c) {
  Prepared p(*c);
  const auto families = to_prometheus_cpp(p);
  const prometheus::TextSerializer serializer;
  size_t out_bytes = 0;
  AllocationCounter allocs;
  for (auto _ : state) {
    std::string text = serializer.Serialize(families);
    out_bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  allocs.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
  set_sizes(state, *c, out_bytes);
}

// Not part of the cycle above, but of every Pushgateway push with gzip on:
// what compressing the text costs at zlib's default level and at level 1.
void BM_Gzip(benchmark::State& state, const Case* c, int level) {
  Prepared p(*c);
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    state.SkipWithError("deflateInit2 failed");
    return;
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(p.text.size())), '\0');
  size_t out_bytes = 0;
  AllocationCounter allocs;
  for (auto _ : state) {
    deflateReset(&zs);
    zs.next_in = reinterpret_cast<Bytef*>(p.text.data());
    zs.avail_in = static_cast<uInt>(p.text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) state.SkipWithError("deflate failed");
    out_bytes = out.size() - zs.avail_out;
    benchmark::DoNotOptimize(out.data());
  }
  allocs.report(state);
  deflateEnd(&zs);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
  set_sizes(state, *c, p.text.size());
  state.counters["gzip_bytes"] = static_cast<double>(out_bytes);
}

size_t count_lines(std::string_view s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Built once at start-up, kept alive for the whole run (benchmarks hold pointers).
  static std::vector<Case> cases = real_cases();
  const Case* base = nullptr;
  for (const auto& c : cases)
    if (c.name == "real/ecs_exporter/fargate-awsvpc-cgroupv1") base = &c;
  if (!base) {
    fmt::print(stderr, "cycle_bench: the ecs_exporter Fargate capture is missing\n");
    return 1;
  }
  std::vector<Case> synthetic;
  for (size_t n : {1, 10, 100, 1000}) synthetic.push_back(synthetic_case(*base, "prometheus", n));
  for (auto& s : synthetic) cases.push_back(std::move(s));

  for (auto& c : cases) {
    Prepared p(c);
    c.containers = p.task.containers.size();
    // Both formatters must print the same series, or the comparison means nothing.
    const std::string promcpp = prometheus::TextSerializer().Serialize(to_prometheus_cpp(p));
    if (const char* dir = std::getenv("EMP_BENCH_DUMP")) {  // to compare the two texts by eye
      std::string base = std::string(dir) + "/" + c.name;
      std::replace(base.begin() + static_cast<std::ptrdiff_t>(std::strlen(dir)) + 1, base.end(), '/', '_');
      std::FILE* f = std::fopen((base + ".ours.prom").c_str(), "w");
      std::FILE* g = std::fopen((base + ".prometheus-cpp.prom").c_str(), "w");
      if (f && g) {
        std::fwrite(p.text.data(), 1, p.text.size(), f);
        std::fwrite(promcpp.data(), 1, promcpp.size(), g);
      }
      if (f) std::fclose(f);
      if (g) std::fclose(g);
    }
    if (count_lines(promcpp) != count_lines(p.text)) {
      fmt::print(stderr, "cycle_bench: {}: prometheus-cpp printed {} lines, we printed {}\n", c.name,
                 count_lines(promcpp), count_lines(p.text));
      return 1;
    }
  }

  for (const Case& c : cases) {
    benchmark::RegisterBenchmark(("cycle/" + c.name).c_str(), BM_Cycle, &c);
    benchmark::RegisterBenchmark(("parse/" + c.name).c_str(), BM_Parse, &c);
    benchmark::RegisterBenchmark(("metrics_text/" + c.name).c_str(), BM_MetricsText, &c);
    benchmark::RegisterBenchmark(("collect/" + c.name).c_str(), BM_Collect, &c);
    benchmark::RegisterBenchmark(("render/" + c.name).c_str(), BM_Render, &c);
    benchmark::RegisterBenchmark(("promcpp_serialize/" + c.name).c_str(), BM_PromCppSerialize, &c);
    benchmark::RegisterBenchmark(("floor_parse/" + c.name).c_str(), BM_FloorParse, &c);
    benchmark::RegisterBenchmark(("floor_copy_out/" + c.name).c_str(), BM_FloorCopyOut, &c);
    benchmark::RegisterBenchmark(("floor_write_devnull/" + c.name).c_str(), BM_FloorWriteDevNull, &c);
    benchmark::RegisterBenchmark(("gzip_default/" + c.name).c_str(), BM_Gzip, &c, Z_DEFAULT_COMPRESSION);
    benchmark::RegisterBenchmark(("gzip_level1/" + c.name).c_str(), BM_Gzip, &c, 1);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
