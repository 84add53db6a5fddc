#!/usr/bin/env bash
# Shows the whole thing working on a fresh machine of this kind:
#   scripts/demo.sh [nats://HOST:PORT]
# Installs what is missing (Debian: docker.io, nats-server, busybox-static), starts a private Docker engine and,
# unless a server URL is given, a NATS server; creates and enables the plugin, runs a container, and prints the
# events that arrive on NATS. Everything it starts is stopped by PID at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
given_nats=${1:-}

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
[ -n "$given_nats" ] || command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "demo: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
JAVA_HOME=$(scripts/find-jdk25); export JAVA_HOME

d=$(mktemp -d /tmp/nats-demo.XXXXXX)
export DOCKER_HOST=unix://$d/docker.sock
cleanup() {
  set +e
  timeout 30 docker rm -f demo >/dev/null 2>&1
  timeout 30 docker plugin disable -f nats-demo >/dev/null 2>&1
  timeout 30 docker plugin rm -f nats-demo >/dev/null 2>&1
  [ -f "$d/docker.pid" ] && kill "$(cat "$d/docker.pid")" 2>/dev/null && sleep 3
  [ -f "$d/nats.pid" ] && kill "$(cat "$d/nats.pid")" 2>/dev/null
  grep " $d" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$d"
}
trap cleanup EXIT

echo "demo: starting a private Docker engine in $d"
dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/docker.pid" -H "$DOCKER_HOST" \
  --storage-driver vfs --iptables=false --bridge=none > "$d/dockerd.log" 2>&1 &
for _ in $(seq 100); do timeout 5 docker version >/dev/null 2>&1 && break; sleep 0.2; done
timeout 5 docker version >/dev/null || { echo "demo: dockerd did not start:"; tail -20 "$d/dockerd.log"; exit 1; }

if [ -n "$given_nats" ]; then
  nats_url=$given_nats
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  nats-server -a 127.0.0.1 -p "$port" > "$d/nats.log" 2>&1 & echo $! > "$d/nats.pid"
  nats_url=nats://127.0.0.1:$port
  sleep 0.5
fi
echo "demo: NATS at $nats_url"

echo "demo: importing a busybox image from Debian's busybox-static"
mkdir -p "$d/bb/bin" && cp "$(readlink -f "$(command -v busybox)")" "$d/bb/bin/busybox"
for a in $("$d/bb/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$d/bb/bin/$a"; done
tar -C "$d/bb" -c . | timeout 60 docker import - demo/busybox:latest >/dev/null

scripts/create-plugin.sh nats-demo
timeout 60 docker plugin set nats-demo NATS_SERVERS="$nats_url"
timeout 60 docker plugin enable nats-demo
echo "demo: plugin enabled (plugin-wide default NATS_SERVERS=$nats_url)"

[ -f plugin/target/nats-log-driver.jar ] || ./mvnw -B -q package -DskipTests
"$JAVA_HOME/bin/java" -cp plugin/target/nats-log-driver.jar scripts/demo/Subscribe.java "$nats_url" 'demo.>' 8 > "$d/events.txt" 2>/dev/null &
sub=$!
for _ in $(seq 100); do grep -q READY "$d/events.txt" 2>/dev/null && break; sleep 0.1; done

echo "demo: docker run --log-driver nats-demo --log-opt tag=demo.{{.Name}} ..."
timeout 60 docker run --rm --name demo --network none --log-driver nats-demo \
  --log-opt 'tag=demo.{{.Name}}' --label app=demo --log-opt labels=app \
  demo/busybox:latest sh -c 'echo "hello from a container"; echo "an error line" >&2; seq 3'
wait $sub || true
echo
echo "demo: events that arrived on NATS:"
grep -v READY "$d/events.txt" || { echo "demo: no events arrived"; exit 1; }
