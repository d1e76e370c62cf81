#!/usr/bin/env bash
# `make run`: serve the demo host (libvirt's in-process test driver loaded from
# packaging/demo/host.xml) on ./.run/virthost.sock (gRPC) and
# ./.run/virthost-ttrpc.sock (ttrpc), show the CLI talking to it, and keep
# serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:?usage: run-demo.sh BIN_DIR}" && pwd)
socket=.run/virthost.sock
ttrpc=.run/virthost-ttrpc.sock
mkdir -p .run
if [ -S "$socket" ] && "$bin/virthost" --socket "$socket" host info >/dev/null 2>&1; then
    echo "run-demo: another agent already serves $socket; stop it first (Ctrl-C in its terminal)" >&2
    exit 1
fi

"$bin/virthostd" --connect "test://$PWD/packaging/demo/host.xml" --socket "$PWD/$socket" \
    --ttrpc-socket "$PWD/$ttrpc" --socket-mode 0600 --state-dir "$PWD/.run/state" --log-level notice &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null' INT TERM EXIT

ready=0
for _ in $(seq 100); do
    # Our own agent first: the socket may answer for another one (it refuses to start then).
    kill -0 $agent 2>/dev/null || { echo "run-demo: virthostd exited; see the log above" >&2; exit 1; }
    if [ -S "$socket" ] && "$bin/virthost" --socket "$socket" host info >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
done
[ $ready = 1 ] || { echo "run-demo: virthostd did not answer on $socket within 10 s" >&2; exit 1; }

show() {
    echo "\$ virthost $*"
    "$bin/virthost" --socket "$socket" "$@"
    echo
}
echo
echo "virthostd is serving the demo host on $socket (pid $agent). The CLI talking to it:"
echo
show net list
show domain list
show --json pool list
echo "\$ virthost --transport ttrpc --socket $ttrpc host info     # the same services over ttrpc"
"$bin/virthost" --transport ttrpc --socket "$ttrpc" host info
echo
cat <<TXT
Try more from another terminal:
  export PATH="$bin:\$PATH"
  virthost --socket $socket --json net list
  virthost --socket $socket domain info web-1
  virthost --socket $socket iface list web-1
  virthost --socket $socket disk list db-1
  virthost --socket $socket vol list demo-images
  virthost --transport ttrpc --socket $ttrpc events      # Ctrl-C ends it

Ctrl-C stops the agent and removes the sockets.
TXT
wait $agent
