#!/usr/bin/env python3
"""One UDP transfer, checked byte for byte, for the end-to-end tests.

  udp_xfer.py serve ADDR PORT READYFILE RESULTFILE
  udp_xfer.py send SRCADDR DSTADDR PORT FILE

Stop and wait: the sender sends the file in datagrams of at most 1000
bytes, each with a 4-byte sequence number, and sends the next once the
receiver acknowledged it (the 4 bytes back); a datagram with no answer
within 0.5 s is sent again (the first ones may be held while IKE
negotiates). An empty datagram ends the transfer. So datagrams go both
ways. The server writes READYFILE once bound, then "<bytes> <sha256>" of
what it received, in order, without duplicates, to RESULTFILE. Gives up
after 30 s without progress.
"""
import hashlib
import socket
import struct
import sys
import time

CHUNK = 1000
STALL = 30


def serve(addr, port, ready, result):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(STALL)
    with open(ready, "w") as f:
        f.write("ready\n")
    h = hashlib.sha256()
    n = 0
    want = 0
    while True:
        d, peer = s.recvfrom(CHUNK + 8)
        if len(d) < 4:
            continue
        seq = struct.unpack("!I", d[:4])[0]
        if seq == want:
            if len(d) == 4:
                s.sendto(d[:4], peer)
                break
            h.update(d[4:])
            n += len(d) - 4
            want += 1
        s.sendto(d[:4], peer)
    with open(result, "w") as f:
        f.write("%d %s\n" % (n, h.hexdigest()))


def send(src, dst, port, path):
    with open(path, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(0.5)
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    chunks.append(b"")
    for seq, c in enumerate(chunks):
        msg = struct.pack("!I", seq) + c
        deadline = time.monotonic() + STALL
        while True:
            if time.monotonic() > deadline:
                sys.exit("udp_xfer: no answer for datagram %d" % seq)
            s.sendto(msg, (dst, int(port)))
            try:
                while True:
                    a, _ = s.recvfrom(16)
                    if a == msg[:4]:
                        break
                break
            except socket.timeout:
                continue


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(*sys.argv[2:6])
    else:
        send(*sys.argv[2:6])
