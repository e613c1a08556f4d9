#!/usr/bin/env python3
"""A hostile Pushgateway stand-in for tests/hostile_*.sh (127.0.0.1, port 0).

  --retry-after VALUE --status N   every request: status N with Retry-After: VALUE
  --echo                           every request: 400 whose body echoes the request
                                   line and all request headers (as some proxies do)
Writes its port to --port-file, appends one line per request to --requests-file.
"""
import argparse
import http.server
import socketserver


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--requests-file", required=True)
    ap.add_argument("--retry-after")
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--echo", action="store_true")
    a = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            with open(a.requests_file, "a") as f:
                f.write(self.command + " " + self.path + "\n")
            if a.echo:
                body = (self.requestline + "\n" + str(self.headers)).encode("latin-1", "replace")
                self.send_response(400)
            else:
                body = b"unavailable\n"
                self.send_response(a.status)
                if a.retry_after is not None:
                    self.send_header("Retry-After", a.retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
