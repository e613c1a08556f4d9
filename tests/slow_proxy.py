#!/usr/bin/env python3
"""A TCP proxy that holds back each response: a slow (or hung) Pushgateway in
front of a real one, for the lifecycle tests.

    slow_proxy.py --upstream PORT --delay-file F --port-file P

Prints nothing; writes its port to P once it listens on 127.0.0.1. Before
forwarding the first bytes of each response it sleeps for the number of
seconds in F (read each time, so the test can change it; missing file = 0).
A delay of 3600 is a peer that accepts and never answers.
"""
import argparse
import os
import socket
import threading
import time


def delay_of(path):
    try:
        with open(path) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def serve(client, upstream_port, delay_file):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    request_pending = threading.Event()

    def client_to_upstream():
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                request_pending.set()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    threading.Thread(target=client_to_upstream, daemon=True).start()
    try:
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            if request_pending.is_set():
                request_pending.clear()
                end = time.monotonic() + delay_of(delay_file)
                while time.monotonic() < end:
                    time.sleep(0.01)
            client.sendall(data)
    except OSError:
        pass
    finally:
        client.close()
        upstream.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--delay-file", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client, a.upstream, a.delay_file), daemon=True).start()


if __name__ == "__main__":
    main()
