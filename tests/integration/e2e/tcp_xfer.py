#!/usr/bin/env python3
"""One TCP transfer, checked byte for byte, for the end-to-end tests.

  tcp_xfer.py serve ADDR PORT READYFILE RESULTFILE   (one connection)
  tcp_xfer.py send SRCADDR DSTADDR PORT FILE

The server writes READYFILE once it listens, then "<bytes> <sha256>" of
what it received to RESULTFILE. Every socket operation has a timeout, so
a stalled path fails the test instead of hanging it.
"""
import hashlib
import socket
import sys

TIMEOUT = 30


def serve(addr, port, ready, result):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    s.settimeout(TIMEOUT)
    with open(ready, "w") as f:
        f.write("ready\n")
    c, _ = s.accept()
    c.settimeout(TIMEOUT)
    h = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        h.update(d)
        n += len(d)
    c.close()
    with open(result, "w") as f:
        f.write("%d %s\n" % (n, h.hexdigest()))


def send(src, dst, port, path):
    with open(path, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.bind((src, 0))
    s.connect((dst, int(port)))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        sys.exit(__doc__)
