# The plugin's root filesystem, built as an image (for users with a registry):
#   docker build -t nats-log-driver-rootfs .
#   mkdir -p p/rootfs && docker export "$(docker create nats-log-driver-rootfs)" | tar -x -C p/rootfs
#   cp config.json p/ && docker plugin create <registry>/nats-log-driver:<version> p
# Offline, substitute local images for the bases (they need: a JDK 25 with jlink and a POSIX shell for the
# build stages; glibc for the runtime stage), e.g.
#   docker build --build-arg BUILD_IMAGE=local/jdk25 --build-arg RUNTIME_IMAGE=local/debian-slim .
# scripts/create-plugin.sh builds the same root filesystem without any image.

ARG BUILD_IMAGE=eclipse-temurin:25-jdk
ARG RUNTIME_IMAGE=debian:bookworm-slim

# 1. Build the jar with the Maven wrapper on JDK 25.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY core/pom.xml core/pom.xml
COPY plugin/pom.xml plugin/pom.xml
COPY jmh/pom.xml jmh/pom.xml
RUN ./mvnw -B -q -pl plugin -am dependency:go-offline || true
COPY core core
COPY plugin plugin
COPY jmh jmh
RUN ./mvnw -B -q -pl plugin -am package -DskipTests

# 2. jlink a minimal runtime: the modules the jar needs (jdeps), and the zip file system Micronaut reads it with.
FROM ${BUILD_IMAGE} AS runtime
RUN jlink --add-modules java.base,java.logging,java.naming,java.management,jdk.unsupported,jdk.jfr,jdk.zipfs \
      --strip-debug --no-header-files --no-man-pages --compress zip-9 --generate-cds-archive --output /opt/java \
    && rm -f /opt/java/lib/server/classes_nocoops.jsa \
    && (command -v strip >/dev/null && find /opt/java/lib -name '*.so' -exec strip --strip-unneeded {} \; || true)

# 3. The root filesystem: glibc from the runtime base, the runtime, the jar, the directories the plugin uses.
FROM ${RUNTIME_IMAGE}
COPY --from=runtime /opt/java /opt/java
COPY --from=build /src/plugin/target/nats-log-driver.jar /opt/nats-log-driver/nats-log-driver.jar
RUN mkdir -p /run/docker/plugins /var/lib/nats-log-driver/state /var/lib/nats-log-driver/cds /certs \
    && /opt/java/bin/java -version
WORKDIR /opt/nats-log-driver
# The entrypoint, environment and mounts are in config.json: a plugin does not inherit the image's.
ENTRYPOINT ["/opt/java/bin/java", "-jar", "/opt/nats-log-driver/nats-log-driver.jar"]
