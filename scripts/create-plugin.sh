#!/usr/bin/env bash
# Builds the plugin's root filesystem offline (no image pull) and creates the Docker plugin NAME from it:
#   scripts/create-plugin.sh NAME
# - builds plugin/target/nats-log-driver.jar if it is missing (REBUILD=1 forces it), with a JDK 25 found here;
# - jlinks a minimal Java runtime from that JDK and copies in the shared libraries it needs (ldd);
# - runs `docker plugin create NAME` against $DOCKER_HOST (or the default engine) and leaves the plugin disabled.
# PLUGIN_CONFIG=FILE uses another manifest than ./config.json (the docker run benchmark's null plugin does).
# It fails loudly with a reason and removes its temporary files in every case.
set -euo pipefail

name=${1:-}
if [ -z "$name" ]; then
  echo "usage: scripts/create-plugin.sh NAME   (e.g. nats, or myregistry/nats-log-driver:0.1)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
fail() { echo "create-plugin: $*" >&2; exit 1; }

command -v docker >/dev/null || fail "no docker client on PATH"
JAVA_HOME=$(scripts/find-jdk25) || fail "a JDK 25 is needed to jlink the plugin's runtime"
export JAVA_HOME
jar=plugin/target/nats-log-driver.jar
if [ ! -f "$jar" ] || [ -n "${REBUILD:-}" ]; then
  echo "create-plugin: building $jar"
  ./mvnw -B -q package -DskipTests || fail "the build failed"
fi

# Modules the jar needs (jdeps; not java.sql, whose only users here are optional paths never taken, nor the
# java.xml it pulls in: logging is set up in code), plus the zip file system Micronaut reads its jar with.
modules=java.base,java.logging,java.naming,java.management,jdk.unsupported,jdk.jfr,jdk.zipfs

work=$(mktemp -d "${TMPDIR:-/tmp}/nats-plugin.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{opt/nats-log-driver,etc,tmp,run/docker/plugins,var/lib/nats-log-driver/state,var/lib/nats-log-driver/cds,certs}
chmod 1777 "$rootfs/tmp"

echo "create-plugin: jlinking a Java runtime ($modules)"
# --generate-cds-archive: the JDK's class data archive, the base the plugin's own archive is built on at its first
# run (config.json: -XX:+AutoCreateSharedArchive); only the compressed-oops variant is ever used with a small heap.
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress zip-9 --generate-cds-archive --output "$rootfs/opt/java" >/dev/null || fail "jlink failed"
rm -f "$rootfs/opt/java/lib/server/classes_nocoops.jsa"
if command -v strip >/dev/null; then # the JDK's native libraries carry their symbols: 5 MB
  find "$rootfs/opt/java/lib" -name '*.so' -exec strip --strip-unneeded {} \;
fi
cp "$jar" "$rootfs/opt/nats-log-driver/nats-log-driver.jar"

# The shared libraries of the runtime, as ldd names them (libc, libm, libz, ld-linux, ...).
{
  ldd "$rootfs/opt/java/bin/java"
  find "$rootfs/opt/java/lib" -name '*.so' -exec ldd {} \;
} 2>/dev/null | awk '/=> \// {print $3} /^\s*\/.*ld-linux/ {print $1}' | sort -u | while read -r lib; do
  case $lib in "$rootfs"/*) continue ;; esac # the runtime's own libraries (found through $ORIGIN) are in place
  [ -e "$lib" ] || fail "ldd names $lib but it is not there"
  cp -L --parents "$lib" "$rootfs/"
done
# netty's epoll library is unpacked at run time into /tmp and needs only libc (copied above).
# /lib64 -> the loader, as on the host
if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$rootfs/lib64/ld-linux-x86-64.so.2" ]; then
  mkdir -p "$rootfs/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
fi

printf 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
# mount points for config.json's bind mounts
: > "$rootfs/etc/resolv.conf"
: > "$rootfs/etc/hosts"

config=${PLUGIN_CONFIG:-config.json}
[ -f "$config" ] || fail "no manifest $config"
cp "$config" "$work/config.json"
"$rootfs/opt/java/bin/java" -version >/dev/null 2>&1 || fail "the jlinked runtime does not start"
size=$(du -sm "$rootfs" | cut -f1)
echo "create-plugin: root filesystem is ${size} MB"

echo "create-plugin: docker plugin create $name"
timeout 120 docker plugin create "$name" "$work" || fail "docker plugin create $name failed (is it there already? docker plugin rm -f $name)"
echo "create-plugin: created $name (disabled); enable it with: docker plugin enable $name"
