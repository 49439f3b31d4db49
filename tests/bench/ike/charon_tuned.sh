#!/usr/bin/env bash
# charon_tuned.sh - strongSwan's charon configured for throughput, for the
# benchmarks only: tests/integration/ike/charon.sh with CHARON_TUNED=1 (the
# settings are listed there; the interop tests run it without).
#   charon_tuned.sh start DIR NETNS LOCAL REMOTE PSK IKE ESP MODE [LTS RTS]
#   charon_tuned.sh stop DIR
CHARON_TUNED=1 exec "$(cd "$(dirname "$0")" && pwd)/../../integration/ike/charon.sh" "$@"
