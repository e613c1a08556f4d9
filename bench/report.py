#!/usr/bin/env python3
"""Turns the benchmark outputs of one run into the Markdown tables of bench/README.md.

    report.py MICRO.json PROCESS.json

MICRO.json is Google Benchmark's JSON (--benchmark_out) from build-bench/bench/cycle_bench,
PROCESS.json what bench/process_bench.sh wrote. Times are CPU time per iteration (the
median of the repetitions when there are several), so that other load on the machine
does not inflate them; every ratio compares figures of this one run.
"""
import json
import re
import subprocess
import sys
from datetime import datetime, timezone

FARGATE = "real/ecs_exporter/fargate-awsvpc-cgroupv1"


def load_micro(path):
    runs = json.load(open(path))
    out = {}  # (kind, case) -> benchmark entry
    for b in runs["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        kind, case = b["run_name"].split("/", 1)
        out[(kind, case)] = b
    return runs.get("context", {}), out


def ns(b):
    unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["cpu_time"] * unit


def us(x):
    return f"{x / 1e3:.1f}" if x < 1e5 else f"{x / 1e3:,.0f}"


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    gbench = subprocess.run(["pkg-config", "--modversion", "benchmark"], capture_output=True, text=True).stdout.strip()
    return model, cpus, kernel, gbench or "?"


def side_by_side(p, proc, lean, seed):
    """One table, one run: the Debian (dynamic) build, the lean static build
    (container/build-lean.sh) and the original Python exporter."""
    loops = lambda d: {l["name"]: l for l in d["loops"]} if d else {}
    builds = [("Debian build (dynamic)", proc)] + ([("lean build (static, mbedTLS)", lean)] if lean else [])
    cols = [n for n, _ in builds] + (["original Python exporter"] if seed else [])
    p(f"### Side by side ({proc['capture']}, loopback, same run)")
    p()
    p("| | " + " | ".join(cols) + " |")
    p("|---|" + "--:|" * len(cols))

    def row(label, key, fmt, seed_value=""):
        cells = []
        for _, d in builds:
            l = loops(d).get(key[0])
            cells.append(fmt(l[key[1]]) if l else "")
        if seed:
            cells.append(seed_value)
        p(f"| {label} | " + " | ".join(cells) + " |")
    kib = lambda v: f"{v:,} KiB ({v / 1024:.1f} MiB)"
    row("VmRSS, loop, Pushgateway over HTTP", ("pushgateway", "rss_kb"), kib,
        f"{seed['rss_kb']:,} KiB ({seed['rss_kb'] / 1024:.1f} MiB)" if seed else "")
    row("VmRSS, loop, Pushgateway over HTTPS (verified, system bundle + test CA)", ("pushgateway-https", "rss_kb"), kib)
    row("RssAnon, loop, HTTPS", ("pushgateway-https", "rss_anon_kb"), lambda v: f"{v:,} KiB")
    row("CPU µs per cycle, Pushgateway over HTTP (gzip)", ("pushgateway", "cpu_us_per_cycle"), lambda v: f"{v:.0f}",
        f"{seed['cpu_us_per_scrape']:.0f} per scrape" if seed else "")
    row("CPU µs per cycle, Pushgateway over HTTPS (gzip)", ("pushgateway-https", "cpu_us_per_cycle"), lambda v: f"{v:.0f}")
    row("CPU µs per cycle, Pushgateway over HTTP without gzip", ("pushgateway-no-gzip", "cpu_us_per_cycle"), lambda v: f"{v:.0f}")
    row("CPU µs per cycle, the three exchanges alone (bench/libcurl_floor --exchanges: Debian's libcurl, "
        "same peers and body, no parse, no render, no gzip)", ("libcurl-exchanges-floor", "cpu_us_per_cycle"),
        lambda v: f"{v:.0f}")
    row("CPU µs per cycle, textfile sink", ("textfile", "cpu_us_per_cycle"), lambda v: f"{v:.0f}")
    row("CPU µs per cycle, textfile sink with fsync made a no-op (libeatmydata)", ("textfile-no-fsync", "cpu_us_per_cycle"), lambda v: f"{v:.0f}")
    row("cycles/s, textfile sink", ("textfile", "cycles_per_s"), lambda v: f"{v:.0f}")
    row("cycles/s, textfile sink without fsync", ("textfile-no-fsync", "cycles_per_s"), lambda v: f"{v:.0f}")
    cells = [f"{d['once_wall_ms_median']:.1f} ms (CPU {d['once_cpu_ms_median']:.1f} ms)" for _, d in builds]
    p("| `--once` exec → pushed, median wall | " + " | ".join(cells) + (" | |" if seed else " |"))
    cells = [f"{d.get('binary_stripped_bytes', 0):,} B {d.get('linkage', '')}" for _, d in builds]
    p("| binary, stripped | " + " | ".join(cells) + (" | |" if seed else " |"))
    p()
    if seed:
        p(f"The original exporter ({seed.get('commit', '')[:12]}) serves /metrics and fetches the metadata on every "
          f"scrape; its figure is CPU per scrape over {seed['scrapes']} scrapes (`bench/seed_bench.sh`; the capture's "
          f"{seed.get('removed_stopped_containers', 0)} stopped container removed, as its null stats crash it).")
        p()


def main():
    args = sys.argv[1:]
    opt = {}
    for flag in ("--lean", "--seed"):
        if flag in args:
            i = args.index(flag)
            opt[flag] = json.load(open(args[i + 1]))
            del args[i:i + 2]
    context, m = load_micro(args[0])
    proc = json.load(open(args[1]))
    cases = sorted({case for (_, case) in m}, key=lambda c: (c.startswith("synthetic"), int(c.split("/")[1]) if c.startswith("synthetic") else 0, c))
    get = lambda kind, case: m.get((kind, case))
    p = print

    model, cpus, kernel, gbench = machine()
    load = f", load average {context['load_avg'][0]:.1f} at start" if context.get("load_avg") else ""
    p(f"Run of {context.get('date', datetime.now(timezone.utc).isoformat(timespec='minutes'))} on {model}, "
      f"{cpus} CPUs (nproc), Linux {kernel}{load}; Google Benchmark {context.get('library_version', gbench)}. "
      "Times are CPU time per cycle (median of the repetitions).")
    p()

    # -- targets summary --------------------------------------------------
    cyc = ns(get("cycle", FARGATE))
    floor = ns(get("floor_parse", FARGATE))
    one, thousand = ns(get("cycle", "synthetic/1")), ns(get("cycle", "synthetic/1000"))
    mt_allocs = max(get("metrics_text", c)["allocs"] for c in cases)
    cycle_allocs = max(get("cycle", c)["allocs"] for c in cases)
    fmt_ratio = min(ns(get("promcpp_serialize", c)) / ns(get("render", c)) for c in cases)
    main_loop = proc["loops"][0]
    rss_mib, anon_mib = main_loop["rss_kb"] / 1024, main_loop["rss_anon_kb"] / 1024
    grow_kb = main_loop["rss_kb"] - main_loop["rss_kb_after_warmup"]
    p("| Target | Measured | Met |")
    p("|---|---|---|")
    p(f"| Cycle (parse + metrics + text), 3-container Fargate capture ≤ 50 µs | {us(cyc)} µs | {'yes' if cyc <= 50e3 else 'NO'} |")
    p(f"| … within 5× the simdjson-parse floor of the same bytes | {cyc / floor:.2f}× ({us(floor)} µs floor) | {'yes' if cyc <= 5 * floor else 'NO'} |")
    p(f"| 1000 containers ≤ 1000× the 1-container cost + constant | {thousand / one:.0f}× ({us(thousand)} µs vs {us(one)} µs) | {'yes' if thousand <= 1000 * one else 'NO'} |")
    p(f"| Steady RSS in loop mode ≤ 4 MiB, not growing over {main_loop['cycles']:,} cycles | VmRSS {rss_mib:.1f} MiB (private/anonymous {anon_mib:.1f} MiB, shared-library file pages {main_loop['rss_file_kb'] / 1024:.1f} MiB); growth after warm-up {grow_kb} KiB | {'yes' if rss_mib <= 4 else 'NO (anonymous part yes)' if anon_mib <= 4 else 'NO'} |")
    p(f"| `--once` exec → pushed ≤ 20 ms on loopback ({proc['sink']} sink) | median {proc['once_wall_ms_median']:.1f} ms of {proc['once_runs']} runs (curl(1) doing the same three exchanges: {proc['curl_baseline_wall_ms_median']:.1f} ms) | {'yes' if proc['once_wall_ms_median'] <= 20 else 'NO'} |")
    p(f"| Zero heap allocations per steady-state cycle, metrics + text | {mt_allocs:g} (whole in-memory cycle, parse included: {cycle_allocs:g}) | {'yes' if mt_allocs == 0 else 'NO'} |")
    p(f"| Formatting ≥ 3× faster than prometheus-cpp on the same families | ≥ {fmt_ratio:.1f}× on every case | {'yes' if fmt_ratio >= 3 else 'NO'} |")
    p()

    # -- per case ---------------------------------------------------------
    p("### Cycle per capture, against the floor")
    p()
    p("`cycle` is `Cycle::run()` as shipped with the bodies in memory and the text rendered as the textfile sink renders it "
      "(no file written). Floor = simdjson DOM parse of the same two bodies + memcpy of the same output bytes.")
    p()
    p("| Case | Containers | In bytes | Out bytes | Cycle µs | In bytes/ns | Allocs/cycle | simdjson µs | Copy-out µs | Cycle ÷ parse floor | Cycle ÷ (parse + copy) |")
    p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c in cases:
        b = get("cycle", c)
        fp, fc = ns(get("floor_parse", c)), ns(get("floor_copy_out", c))
        t = ns(b)
        p(f"| {c} | {b['containers']:.0f} | {b['in_bytes']:,.0f} | {b['out_bytes']:,.0f} | {us(t)} | {b['in_bytes'] / t:.2f} | "
          f"{b['allocs']:g} | {us(fp)} | {fc / 1e3:.2f} | {t / fp:.2f}× | {t / (fp + fc):.2f}× |")
    p()

    # -- stages -----------------------------------------------------------
    p("### Stages and growth with task size")
    p()
    p("| Case | Parse µs | Collect µs | Render µs | Metrics+text allocs | Cycle µs | Cycle µs per container | Cycle ÷ 1-container cycle |")
    p("|---|--:|--:|--:|--:|--:|--:|--:|")
    for c in [FARGATE] + [c for c in cases if c.startswith("synthetic")]:
        t = ns(get("cycle", c))
        n = get("cycle", c)["containers"]
        p(f"| {c} | {us(ns(get('parse', c)))} | {us(ns(get('collect', c)))} | {us(ns(get('render', c)))} | "
          f"{get('metrics_text', c)['allocs']:g} | {us(t)} | {t / n / 1e3:.2f} | {t / one:.1f}× |")
    p()

    # -- formatting vs prometheus-cpp ---------------------------------------
    p("### Formatting: ours against prometheus-cpp's TextSerializer (same families, same labels)")
    p()
    p("prometheus-cpp is given its `std::vector<MetricFamily>` ready-made (its build is not timed) and called as its users call it, "
      "`TextSerializer().Serialize(families)` → `std::string`. Ours is `render_text()` into a reused string.")
    p()
    p("| Case | Ours µs | prometheus-cpp µs | Speed-up | Ours allocs | prometheus-cpp allocs | Ours bytes | prometheus-cpp bytes |")
    p("|---|--:|--:|--:|--:|--:|--:|--:|")
    for c in [FARGATE] + [c for c in cases if c.startswith("synthetic")]:
        r, pc = get("render", c), get("promcpp_serialize", c)
        p(f"| {c} | {us(ns(r))} | {us(ns(pc))} | {ns(pc) / ns(r):.1f}× | {r['allocs']:g} | {pc['allocs']:g} | "
          f"{r['out_bytes']:,.0f} | {pc['out_bytes']:,.0f} |")
    p()

    # -- gzip -------------------------------------------------------------
    p("### gzip of the text (what a Pushgateway push with gzip adds; not part of the cycle above)")
    p()
    p("| Case | Text bytes | zlib default level µs | → bytes | zlib level 1 µs | → bytes | Cycle µs |")
    p("|---|--:|--:|--:|--:|--:|--:|")
    for c in [FARGATE] + [c for c in cases if c.startswith("synthetic")]:
        g6, g1 = get("gzip_default", c), get("gzip_level1", c)
        p(f"| {c} | {g6['out_bytes']:,.0f} | {us(ns(g6))} | {g6['gzip_bytes']:,.0f} | {us(ns(g1))} | {g1['gzip_bytes']:,.0f} | {us(ns(get('cycle', c)))} |")
    p()

    # -- whole process ------------------------------------------------------
    p(f"### Whole process ({proc['capture']} served by tests/fake_metadata.py, real Pushgateway, loopback)")
    p()
    p(f"Loop mode at `--interval={proc['interval']} --interval.jitter=0`; CPU = utime + stime of the pusher's PID "
      "(/proc/PID/stat) over the last 90% of the cycles, so the Python endpoint is never counted; RSS from /proc/PID/status.")
    p()
    p("| Loop | Cycles | CPU µs/cycle | Cycles/s | VmRSS KiB after 10% | VmRSS KiB at end | VmHWM KiB | RssAnon KiB | RssFile KiB | Errors logged |")
    p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for l in proc["loops"]:
        p(f"| {l['name']} | {l['cycles']:,} | {l['cpu_us_per_cycle']:.0f} | {l['cycles_per_s']:.0f} | {l['rss_kb_after_warmup']:,} | "
          f"{l['rss_kb']:,} | {l['hwm_kb']:,} | {l['rss_anon_kb']:,} | {l['rss_file_kb']:,} | {l['errors_logged']} |")
    # A loop that logged errors measured something else than a working cycle: say which error.
    for l in proc["loops"]:
        if l.get("errors_logged") and l.get("first_error"):
            p()
            p(f"**{l['name']}: {l['errors_logged']} errors logged; its figures are not a working cycle's.** First: `{l['first_error'][:240]}`")
    if "libcurl_floor_VmRSS_kb" in proc:
        p(f"| floor: a program that only links Debian's libcurl and calls curl_global_init (bench/libcurl_floor.cc) | | | | | "
          f"{proc['libcurl_floor_VmRSS_kb']:,} | | {proc['libcurl_floor_RssAnon_kb']:,} | {proc['libcurl_floor_RssFile_kb']:,} | |")
    p()
    p("| `--once` ({} sink), {} runs | median | min | max |".format(proc["sink"], proc["once_runs"]))
    p("|---|--:|--:|--:|")
    p(f"| wall ms, exec → exit after the push | {proc['once_wall_ms_median']:.1f} | {proc['once_wall_ms_min']:.1f} | {proc['once_wall_ms_max']:.1f} |")
    p(f"| CPU ms of the pusher (getrusage of the child) | {proc['once_cpu_ms_median']:.1f} | | |")
    p(f"| peak RSS KiB (ru_maxrss) | {proc['once_maxrss_kb_median']:,.0f} | | |")
    p(f"| baseline: curl(1) GET /task, GET /task/stats, PUT the same text, wall ms | {proc['curl_baseline_wall_ms_median']:.1f} | | |")
    p()
    p(f"Binary: {proc['binary_bytes']:,} bytes as built (release), {proc['binary_stripped_bytes']:,} bytes stripped; "
      "dynamically linked against libcurl, simdjson, fmt, zlib.")
    p()
    side_by_side(p, proc, opt.get("--lean"), opt.get("--seed"))


if __name__ == "__main__":
    main()
