#!/usr/bin/env python3
"""A stand-in for the ECS task metadata endpoint (v4), the only part of the
world our tests fake. It serves real captured bodies from tests/fixtures and
can misbehave on request.

    fake_metadata.py --task T.json --stats S.json [--port 0] [--port-file F]

Prints "PORT <n>" on stdout once it listens on 127.0.0.1. Serves
<any prefix>/task and <any prefix>/task/stats.

Counters advance with the "tick" (0 at start): for every container with stats,
  cpu_stats.cpu_usage.total_usage  += tick * 1e9 * (i+1)   (i = index of the entry)
  networks.<if>.rx_bytes / tx_bytes += tick * 1000 / tick * 100
  blkio Read/Write values           += tick * 4096
so a test can work out the expected values by hand. The tick is set with the
control API, or advanced on each /task/stats request with --advance.

Control API (JSON body, POST /_control), every key optional:
  {"mode": "ok" | "status:500" | "slow" | "truncate" | "garbage" | "oversize"
            | "close" | "hang",
   "delay": seconds (for "slow"; also used by "hang"),
   "tick": n, "advance": true|false,
   "task": path, "stats": path,       (switch to other bodies)
   "stop": [docker_id, ...],          (these entries become null: container stopped)
   "remove": [docker_id, ...]}        (these containers vanish from both bodies)
GET /_control returns {"task_requests": n, "stats_requests": n, "tick": n, "mode": m}.
"""
import argparse
import copy
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, task_path, stats_path):
        self.lock = threading.Lock()
        self.mode = "ok"
        self.delay = 0.0
        self.tick = 0
        self.advance = False
        self.stopped = set()
        self.removed = set()
        self.task_requests = 0
        self.stats_requests = 0
        self.load(task_path, stats_path)

    def load(self, task_path, stats_path):
        if task_path:
            with open(task_path, "rb") as f:
                self.task_raw = f.read()
            self.task = json.loads(self.task_raw)
        if stats_path:
            with open(stats_path, "rb") as f:
                self.stats_raw = f.read()
            self.stats = json.loads(self.stats_raw)

    def task_body(self):
        if not self.removed:
            return self.task_raw
        t = copy.deepcopy(self.task)
        t["Containers"] = [c for c in t.get("Containers", []) if c.get("DockerId") not in self.removed]
        return json.dumps(t).encode()

    def stats_body(self):
        if self.tick == 0 and not self.stopped and not self.removed:
            return self.stats_raw
        s = {}
        for i, (k, v) in enumerate(self.stats.items()):
            if k in self.removed:
                continue
            if k in self.stopped or not v:
                s[k] = None if k in self.stopped else v
                continue
            v = copy.deepcopy(v)
            n = self.tick
            cu = v.get("cpu_stats", {}).get("cpu_usage")
            if isinstance(cu, dict) and isinstance(cu.get("total_usage"), (int, float)):
                cu["total_usage"] += n * 1000000000 * (i + 1)
            nets = v.get("networks")
            if isinstance(nets, dict):
                for iface in nets.values():
                    if isinstance(iface, dict):
                        iface["rx_bytes"] = iface.get("rx_bytes", 0) + n * 1000
                        iface["tx_bytes"] = iface.get("tx_bytes", 0) + n * 100
            blk = v.get("blkio_stats", {})
            if isinstance(blk, dict):
                for key in ("io_service_bytes_recursive",):
                    lst = blk.get(key)
                    if isinstance(lst, list):
                        for e in lst:
                            if isinstance(e, dict) and str(e.get("op", "")).lower() in ("read", "write"):
                                e["value"] = e.get("value", 0) + n * 4096
            s[k] = v
        return json.dumps(s).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle and delayed
        # ACKs add 40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.state
        path = self.path.split("?")[0]
        if path == "/_control":
            with st.lock:
                body = json.dumps({"task_requests": st.task_requests, "stats_requests": st.stats_requests,
                                   "tick": st.tick, "mode": st.mode}).encode()
            return self._send(200, body)
        if path.endswith("/task/stats"):
            with st.lock:
                st.stats_requests += 1
                body = st.stats_body()
                if st.advance:
                    st.tick += 1
                mode, delay = st.mode, st.delay
        elif path.endswith("/task"):
            with st.lock:
                st.task_requests += 1
                body = st.task_body()
                mode, delay = st.mode, st.delay
        else:
            return self._send(404, b"404 page not found\n", "text/plain")
        self._misbehave(mode, delay, body)

    def _misbehave(self, mode, delay, body):
        if mode == "ok":
            return self._send(200, body)
        if mode.startswith("status:"):
            return self._send(int(mode.split(":")[1]), b"internal error\n", "text/plain")
        if mode == "slow":
            time.sleep(delay)
            return self._send(200, body)
        if mode == "hang":
            time.sleep(delay or 3600)
            return
        if mode == "truncate":
            return self._send(200, body[: len(body) // 2])
        if mode == "garbage":
            return self._send(200, b"\x00\xffnot json at all {{{")
        if mode == "oversize":
            big = b"[" + b"0," * (10 * 1024 * 1024) + b"0]"
            return self._send(200, big)
        if mode == "close":
            # Promise the whole body, send half, then drop the connection.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        return self._send(500, b"unknown fake mode\n", "text/plain")

    def do_POST(self):
        st = self.state
        if self.path != "/_control":
            return self._send(404, b"", "text/plain")
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n) or b"{}")
        with st.lock:
            if "mode" in req:
                st.mode = req["mode"]
            if "delay" in req:
                st.delay = float(req["delay"])
            if "tick" in req:
                st.tick = int(req["tick"])
            if "advance" in req:
                st.advance = bool(req["advance"])
            if "task" in req or "stats" in req:
                st.load(req.get("task"), req.get("stats"))
            if "stop" in req:
                st.stopped = set(req["stop"])
            if "remove" in req:
                st.removed = set(req["remove"])
        return self._send(200, b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--advance", action="store_true")
    a = ap.parse_args()
    Handler.state = State(a.task, a.stats)
    Handler.state.advance = a.advance
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    print(f"PORT {port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
