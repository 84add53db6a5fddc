package dev.natslog.plugin;

import io.micronaut.runtime.Micronaut;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The plugin process: serves Docker's LogDriver API on a unix socket. Wiring only.
 *
 * <p>The socket is {@value #DEFAULT_SOCKET} (where dockerd looks inside a managed plugin's rootfs), or
 * {@code $LOG_DRIVER_SOCKET}. A stale socket file left by a killed process is removed first.
 */
public final class Application {
    /** Where a managed plugin listens: {@code interface.socket} of config.json under {@code /run/docker/plugins}. */
    public static final String DEFAULT_SOCKET = "/run/docker/plugins/nats.sock";

    private Application() {
    }

    public static void main(final String[] args) throws IOException {
        final Path socket = Path.of(System.getenv().getOrDefault("LOG_DRIVER_SOCKET", DEFAULT_SOCKET));
        if (null != socket.getParent()) {
            Files.createDirectories(socket.getParent());
        }
        Files.deleteIfExists(socket); // after kill -9 the file stays and binding would fail
        Micronaut.build(args)
            .mainClass(Application.class)
            .banner(false)
            .properties(Map.of(
                "micronaut.server.netty.listeners.docker.family", "UNIX",
                "micronaut.server.netty.listeners.docker.path", socket.toString()))
            .start();
    }
}
