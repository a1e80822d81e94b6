#!/bin/sh
# Starts the three nodes of examples/cluster on this machine (make cluster)
# and stops them all on Ctrl-C. Logs go to data/cluster/gw-N.log.
set -eu
bin=${1:-bin}
here=$(dirname "$0")
data=data/cluster
mkdir -p "$data"
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait
}
trap stop INT TERM EXIT
start() {
	"$bin/licensegw" serve -config "$here/node$1.hcl" >"$data/gw-$1.log" 2>&1 &
	pids="$pids $!"
	echo "gw-$1: pid $!, log $data/gw-$1.log, admin http://127.0.0.1:765$1, CLM/1 127.0.0.1:164$1"
}
start 1
# The first node writes the shared signing key; the others read it.
i=0
while [ ! -s "$data/signing.key" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
start 2
start 3
echo "one node leads (the others stand by); try:"
echo "  $bin/licensegw status -config $here/node1.hcl -addr 127.0.0.1:7651"
echo "Ctrl-C stops all three."
wait
