#!/usr/bin/env python3
"""Run a Type=notify service the way systemd does, for the service tests.

usage: supervise.py DIR -- command args...

Creates DIR/notify.sock, starts the command with NOTIFY_SOCKET (and
WATCHDOG_USEC) set, prints "ready PID" on stdout once READY=1 arrives (or
"failed RC" if the command exits first), records every notification in
DIR/notify.log, and exits with the command's status (128+N if killed by
signal N). Waits on the socket and a pidfd: no polling, no sleeps.
"""
import os
import select
import socket
import subprocess
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    d, cmd = sys.argv[1], sys.argv[3:]
    path = os.path.join(d, "notify.sock")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    with open(os.path.join(d, "agentd.log"), "ab") as err:
        p = subprocess.Popen(cmd, env=env, stderr=err, stdout=err)
    pidfd = os.pidfd_open(p.pid)
    ready = False
    log = open(os.path.join(d, "notify.log"), "a")
    deadline_ready = 20.0
    while True:
        r, _, _ = select.select([s, pidfd], [], [],
                                None if ready else deadline_ready)
        if not r:
            print("failed timeout", flush=True)
            p.kill()
            p.wait()
            return 1
        if s in r:
            msg = s.recv(4096).decode(errors="replace")
            for line in msg.split("\n"):
                if line:
                    log.write(line + "\n")
            log.flush()
            if not ready and "READY=1" in msg.split("\n"):
                ready = True
                print("ready %d" % p.pid, flush=True)
            continue
        if pidfd in r:
            rc = p.wait()
            # Drain what was sent just before exit.
            s.setblocking(False)
            try:
                while True:
                    log.write(s.recv(4096).decode(errors="replace") + "\n")
            except BlockingIOError:
                pass
            log.close()
            rc = 128 - rc if rc < 0 else rc
            if not ready:
                print("failed %d" % rc, flush=True)
            return rc


if __name__ == "__main__":
    sys.exit(main())
