#!/usr/bin/env python3
"""A stand-in for journald's native socket (tests only).

usage: journal_recv.py SOCKET_PATH [--syslog]
Binds the datagram socket and prints each entry as one JSON object line
(fields of the native protocol: KEY=value lines, or KEY\\n<le64><data>\\n
for values with newlines), flushing after each. With --syslog it stands
in for /dev/log instead and prints {"line": "<the datagram>"}.
"""
import json
import os
import socket
import struct
import sys


def parse(d):
    out = {}
    i = 0
    while i < len(d):
        nl = d.find(b"\n", i)
        if nl < 0:
            break
        line = d[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            out[k.decode()] = v.decode(errors="replace")
            i = nl + 1
        else:
            (n,) = struct.unpack("<Q", d[nl + 1:nl + 9])
            out[line.decode()] = d[nl + 9:nl + 9 + n].decode(errors="replace")
            i = nl + 9 + n + 1
    return out


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    print(json.dumps({"ready": True}), flush=True)
    while True:
        d = s.recv(1 << 20)
        if len(sys.argv) > 2 and sys.argv[2] == "--syslog":
            print(json.dumps({"line": d.decode(errors="replace")}),
                  flush=True)
        else:
            print(json.dumps(parse(d)), flush=True)


if __name__ == "__main__":
    main()
