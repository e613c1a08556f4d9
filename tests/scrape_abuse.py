#!/usr/bin/env python3
"""Hostile clients for the scrape endpoint (tests/scrape_endpoint.sh).

    scrape_abuse.py flood PORT N        N quick connections, one GET /metrics each
                                        (10 at a time); prints how many got 200
    scrape_abuse.py slowloris PORT N S  opens N connections that send a header
                                        line by line, one byte a second, for S
                                        seconds; prints how many the server
                                        accepted and how many it has closed
"""
import socket
import sys
import threading
import time


def flood(port, n):
    ok = 0
    lock = threading.Lock()
    left = list(range(n))

    def worker():
        nonlocal ok
        while True:
            with lock:
                if not left:
                    return
                left.pop()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                if data.startswith(b"HTTP/1.1 200"):
                    with lock:
                        ok += 1
            except OSError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(ok)


def slowloris(port, n, seconds):
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(1)
        for s in socks:
            try:
                s.sendall(b"X")
            except OSError:
                pass
    closed = 0
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(len(socks), closed)


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]))
    else:
        slowloris(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
