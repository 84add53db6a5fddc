#!/usr/bin/env bash
# What users feel, on a real engine: the wall time of `docker run … seq 1 LINES` with
#   json-file    (Docker's default, no plugin),
#   natsnull     (a null plugin: this plugin with DRAIN_ONLY=true, which reads its FIFOs and throws the bytes away:
#                 the floor of dockerd's plugin path, which no log driver plugin can beat),
#   nats         (this plugin, every line counted on NATS, complete and in order),
#   natsvar      (only with VARIANT="NAME=VALUE …": this plugin with other settings, e.g. VARIANT="PUBLISHER_NICE=0",
#                 to compare them in the same run; VARIANT="DISCARD_EVENTS=true" is the plugin without NATS: it
#                 does everything up to jnats, then takes each batch as sent — its lines are not counted on NATS)
# alternated RUNS times in one run on a private dockerd. Wall time = `docker run -d` until `docker wait` returns.
#   scripts/bench-docker-run.sh            (RUNS=5 LINES=300000 by default)
# WARMUP=N runs N more rounds first, printed as rounds w1…wN and left out of the medians: the plugins' JIT warm-up
# (a plugin runs for days; its first round after a start pays ~1 s of compilation), kept apart from the steady state.
# The subscriber that counts the lines is part of the harness, not of the pipeline measured (in production it runs
# elsewhere): it runs at nice COUNT_NICE (19 by default; 0 to let it compete with dockerd like the rest).
# nats-server runs at nice NATS_NICE (0 by default, competing like the plugin; 19 shows how much of the gap is
# nats-server sharing the host's cores, as it does not where it runs on another machine).
# Knobs for profiling the nats plugin: PUBLISHER_NICE=N (its setting), PLUGIN_JAVA_OPTIONS="…" (its
# JDK_JAVA_OPTIONS), JFR_OUT=file (copies out a flight recording asked for in PLUGIN_JAVA_OPTIONS; add -Xshare:off,
# JFR is off while the class data archive is dumped), PERF_DIR=dir (system-wide `perf record` of each round after
# the first of the drivers in PERF_DRIVERS, "nats" by default, into dir/roundN.DRIVER.data; with
# -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit the JIT's symbols are copied to /tmp).
# Needs root (dockerd); installs docker.io, nats-server and busybox-static if missing. Stops all it starts by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-0}
LINES=${LINES:-300000}

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
JAVA_HOME=$(scripts/find-jdk25); export JAVA_HOME
[ -f plugin/target/nats-log-driver.jar ] && [ -f jmh/target/benchmarks.jar ] || ./mvnw -B -q package -DskipTests

d=$(mktemp -d /tmp/nats-bench.XXXXXX)
export DOCKER_HOST=unix://$d/docker.sock
cleanup() {
  set +e
  if [ -n "${failed:-}" ]; then
    echo "bench: the plugins' log lines (from dockerd's log):"; grep -a 'plugin=' "$d/dockerd.log" | tail -30
  fi
  for c in $(timeout 30 docker ps -aq 2>/dev/null); do timeout 30 docker rm -f "$c" >/dev/null 2>&1; done
  for p in nats natsnull natsvar; do
    timeout 30 docker plugin disable "$p" >/dev/null 2>&1 || timeout 30 docker plugin disable -f "$p" >/dev/null 2>&1
    if [ "$p" = nats ] && [ -n "${JFR_OUT:-}" ]; then # a flight recording asked for in PLUGIN_JAVA_OPTIONS
      find "$d/root/plugins" -name '*.jfr' -exec cp {} "$JFR_OUT" \; 2>/dev/null
    fi
    if [ "$p" = nats ] && [ -n "${PERF_DIR:-}" ]; then # the JIT's symbols for perf (-XX:+DumpPerfMapAtExit)
      find "$d/root/plugins" -name 'perf-*.map' -exec cp {} "/tmp/perf-$nats_plugin.map" \; 2>/dev/null
    fi
    timeout 30 docker plugin rm -f "$p" >/dev/null 2>&1
  done
  [ -n "${count_pid:-}" ] && kill "$count_pid" 2>/dev/null
  [ -f "$d/docker.pid" ] && kill "$(cat "$d/docker.pid")" 2>/dev/null && sleep 3
  [ -f "$d/nats.pid" ] && kill "$(cat "$d/nats.pid")" 2>/dev/null
  grep " $d" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$d"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
# CPU seconds (user+system) a process has used; the plugins' processes are found by their command line (read only)
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
plugin_pid() { # $1: the plugin (nats, natsnull, natsvar), told apart by their environments
  local p env
  for p in $(pgrep -f 'nats-log-driver.jar'); do
    env=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null)
    case $1 in
      natsnull) grep -q '^DRAIN_ONLY=true$' <<<"$env" && { echo "$p"; return; } ;;
      natsvar) grep -q '^BENCH_VARIANT=1$' <<<"$env" && { echo "$p"; return; } ;;
      nats) grep -q "^NATS_SERVERS=$nats_url$" <<<"$env" && ! grep -q '^BENCH_VARIANT=1$' <<<"$env" \
        && { echo "$p"; return; } ;;
    esac
  done
}

dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/docker.pid" -H "$DOCKER_HOST" \
  --storage-driver vfs --iptables=false --bridge=none > "$d/dockerd.log" 2>&1 &
for _ in $(seq 100); do timeout 5 docker version >/dev/null 2>&1 && break; sleep 0.2; done
timeout 5 docker version >/dev/null || { echo "bench: dockerd did not start"; tail -20 "$d/dockerd.log"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nice -n "${NATS_NICE:-0}" nats-server -a 127.0.0.1 -p "$port" > "$d/nats.log" 2>&1 & echo $! > "$d/nats.pid"
nats_url=nats://127.0.0.1:$port

mkdir -p "$d/bb/bin" && cp "$(readlink -f "$(command -v busybox)")" "$d/bb/bin/busybox"
for a in $("$d/bb/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$d/bb/bin/$a"; done
tar -C "$d/bb" -c . | timeout 60 docker import - bench/busybox:latest >/dev/null

scripts/create-plugin.sh nats >/dev/null
python3 - "$d/null-config.json" <<'PY'
import json, sys
c = json.load(open("config.json"))
c["description"] = "null log driver (DRAIN_ONLY): the benchmark floor"
c["env"].append({"name": "DRAIN_ONLY", "description": "drain FIFOs only", "value": "true"})
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
PLUGIN_CONFIG="$d/null-config.json" scripts/create-plugin.sh natsnull >/dev/null
drivers="json-file natsnull nats"
if [ -n "${VARIANT:-}" ]; then
  python3 - "$d/var-config.json" "$nats_url" $VARIANT <<'PY'
import json, sys
c = json.load(open("config.json"))
settings = dict(a.split("=", 1) for a in sys.argv[3:])
settings["NATS_SERVERS"] = sys.argv[2]
if "DISCARD_EVENTS" in settings:  # not a user setting: not in config.json
    c["env"].append({"name": "DISCARD_EVENTS", "description": "the plugin without NATS",
                     "value": settings.pop("DISCARD_EVENTS")})
for e in c["env"]:
    if e["name"] in settings:
        e["value"] = settings.pop(e["name"])
if settings:
    sys.exit("bench: VARIANT names settings config.json does not have: " + ", ".join(settings))
c["description"] = "variant: " + " ".join(sys.argv[3:])
c["env"].append({"name": "BENCH_VARIANT", "description": "marks the benchmark's variant", "value": "1"})
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
  PLUGIN_CONFIG="$d/var-config.json" scripts/create-plugin.sh natsvar >/dev/null
  timeout 60 docker plugin enable natsvar >/dev/null
  drivers="$drivers natsvar"
fi
timeout 60 docker plugin set nats NATS_SERVERS="$nats_url"
# PLUGIN_JAVA_OPTIONS="…" tries other memory/JIT flags on the nats plugin (its JDK_JAVA_OPTIONS setting)
[ -z "${PUBLISHER_NICE:-}" ] || timeout 60 docker plugin set nats PUBLISHER_NICE="$PUBLISHER_NICE"
[ -z "${PLUGIN_JAVA_OPTIONS:-}" ] || timeout 60 docker plugin set nats JDK_JAVA_OPTIONS="$PLUGIN_JAVA_OPTIONS"
timeout 60 docker plugin enable nats >/dev/null
timeout 60 docker plugin enable natsnull >/dev/null

nats_plugin=$(plugin_pid nats); null_plugin=$(plugin_pid natsnull); dockerd_pid=$(cat "$d/docker.pid")
[ -n "$nats_plugin" ] && [ -n "$null_plugin" ] || { echo "bench: cannot find the plugins' processes"; exit 1; }
var_plugin=""
if [ -n "${VARIANT:-}" ]; then
  var_plugin=$(plugin_pid natsvar); [ -n "$var_plugin" ] || { echo "bench: cannot find the variant's process"; exit 1; }
fi
nice -n "${COUNT_NICE:-19}" "$JAVA_HOME/bin/java" -cp jmh/target/benchmarks.jar scripts/bench/Count.java "$nats_url" 'bench.>' "$d/counts" \
  > "$d/count.log" 2>&1 & count_pid=$!
for _ in $(seq 100); do grep -q READY "$d/counts" 2>/dev/null && break; sleep 0.1; done

run() { # driver tag -> prints container id, start time, wall ms, ms until `docker run -d` returned
  local drv=$1 tag=$2 t0 ts t1 cid
  t0=$(now_ms)
  cid=$(timeout 300 docker run -d --network none --log-driver "$drv" --log-opt "tag=$tag" bench/busybox seq 1 "$LINES")
  ts=$(now_ms)
  timeout 300 docker wait "$cid" >/dev/null
  t1=$(now_ms)
  echo "$cid $t0 $((t1 - t0)) $((ts - t0))"
}

echo "bench: $RUNS rounds of seq 1 $LINES; drivers alternated: $drivers${VARIANT:+ (natsvar: $VARIANT)}"
printf '%-6s %-10s %10s %9s %14s %14s %12s %s\n' round driver wall_ms start_ms dockerd_cpu_s plugin_cpu_s nats_cpu_s note
declare -A walls
for r in $(for w in $(seq "$WARMUP"); do echo "w$w"; done; seq "$RUNS"); do
  for drv in $drivers; do
    case $drv in nats) pp=$nats_plugin ;; natsnull) pp=$null_plugin ;; natsvar) pp=$var_plugin ;; *) pp="" ;; esac
    dc0=$(cpu_s "$dockerd_pid"); pc0=$([ -n "$pp" ] && cpu_s "$pp" || echo 0); nc0=$(cpu_s "$(cat "$d/nats.pid")")
    # PERF_DIR=dir: a system-wide perf profile of each round after the first of the drivers in PERF_DRIVERS
    # ("nats" by default; e.g. "nats natsnull" to compare dockerd's work with either) in dir/roundN.DRIVER.data
    if [ -n "${PERF_DIR:-}" ] && [[ " ${PERF_DRIVERS:-nats} " == *" $drv "* ]] && [ "${r#w}" = "$r" ] && [ "$r" -gt 1 ]; then
      perf record -a -g -F 999 -o "$PERF_DIR/round$r.$drv.data" >/dev/null 2>&1 & perf_pid=$!; sleep 0.5
    fi
    read -r cid t0 wall started < <(run "$drv" "bench.r$r.$drv")
    [ -z "${perf_pid:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""; }
    note=""
    if [ "$drv" = json-file ]; then
      n=$(timeout 120 docker logs "$cid" 2>/dev/null | wc -l)
      [ "$n" = "$LINES" ] || { echo "bench: json-file kept $n lines, not $LINES"; exit 1; }
    elif [ "$drv" = natsvar ] && [[ " ${VARIANT} " == *" DISCARD_EVENTS=true "* ]]; then
      note="events thrown away before jnats (DISCARD_EVENTS), not counted"
    elif [ "$drv" = nats ] || [ "$drv" = natsvar ]; then
      ok=""
      for _ in $(seq 600); do
        line=$(grep "^bench.r$r.$drv " "$d/counts" || true)
        if [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f2)" = "$LINES" ]; then ok=1; break; fi
        sleep 0.1
      done
      [ -n "$ok" ] || { failed=1; echo "bench: NATS got '${line:-nothing}' of $LINES for round $r"; exit 1; }
      [ "$(echo "$line" | cut -d' ' -f3)" = true ] || { failed=1; echo "bench: round $r arrived out of order"; exit 1; }
      note="all $LINES on NATS, in order, the last $(( $(echo "$line" | cut -d' ' -f4) - t0 )) ms after docker run"
    fi
    dc=$(python3 -c "print(f'{$(cpu_s "$dockerd_pid") - $dc0:.2f}')")
    pc=$([ -n "$pp" ] && python3 -c "print(f'{$(cpu_s "$pp") - $pc0:.2f}')" || echo -)
    nc=$(python3 -c "print(f'{$(cpu_s "$(cat "$d/nats.pid")") - $nc0:.2f}')")
    timeout 60 docker rm -f "$cid" >/dev/null
    [ "${r#w}" != "$r" ] || walls[$drv]="${walls[$drv]:-} $wall" # warm-up rounds are left out
    printf '%-6s %-10s %10s %9s %14s %14s %12s %s\n' "$r" "$drv" "$wall" "$started" "$dc" "$pc" "$nc" "$note"
  done
done

echo
echo "the nats plugin's CPU by thread over all rounds (s):"
for t in /proc/"$nats_plugin"/task/*; do
  name=$(tr ' ' '_' < "$t/comm")
  sed 's/^.*) //' "$t/stat" | awk -v hz="$(getconf CLK_TCK)" -v name="$name" '{s=($12+$13)/hz; if (s >= 0.05) printf "  %-22s %6.2f\n", name, s}'
done | sort -k2 -rn
echo "  (threads that ended, such as a closed connection's publisher, are not listed)"

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
j=$(echo "${walls[json-file]}" | median); z=$(echo "${walls[natsnull]}" | median); n=$(echo "${walls[nats]}" | median)
echo
echo "median wall ms: json-file $j, null plugin $z, nats $n"
python3 -c "print(f'nats / null plugin = {$n/$z:.2f}x   null plugin / json-file = {$z/$j:.2f}x   nats / json-file = {$n/$j:.2f}x')"
if [ -n "${VARIANT:-}" ]; then
  v=$(echo "${walls[natsvar]}" | median)
  echo "median wall ms of the variant ($VARIANT): $v"
  python3 -c "print(f'variant / null plugin = {$v/$z:.2f}x   variant / nats = {$v/$n:.2f}x')"
fi
