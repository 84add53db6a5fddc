package dev.natslog.plugin;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged plugin jar, run as its own process the way dockerd runs it, and stopped by its PID. */
final class PluginProcess implements AutoCloseable {
    final Path socket;
    final Path stateDir;
    final Path log;
    private final Map<String, String> env;
    private Process process;

    PluginProcess(final Path dir, final Map<String, String> env) {
        this.socket = dir.resolve("run/nats.sock");
        this.stateDir = dir.resolve("state");
        this.log = dir.resolve("plugin.log");
        this.env = env;
    }

    PluginProcess start() throws IOException, InterruptedException {
        final String jar = System.getProperty("plugin.jar");
        final String java = System.getProperty("plugin.java", "java");
        if (null == jar || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("the packaged jar is missing (plugin.jar=" + jar + "); run through `mvn verify`");
        }
        final List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-Dio.netty.noUnsafe=false",
            "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED", "-jar", jar));
        final ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        final Map<String, String> e = new HashMap<>(env);
        e.putIfAbsent("LOG_DRIVER_SOCKET", socket.toString());
        e.putIfAbsent("STATE_DIR", stateDir.toString());
        e.putIfAbsent("LOG_LEVEL", "INFO");
        pb.environment().putAll(e);
        process = pb.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the plugin exited with " + process.exitValue() + ":\n" + logText());
            }
            if (Files.exists(socket)) {
                try (SocketChannel ignored = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ignored.connect(UnixDomainSocketAddress.of(socket));
                    return this;
                } catch (final IOException notYet) {
                    // not listening yet
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("the plugin did not listen on " + socket + ":\n" + logText());
    }

    long pid() {
        return process.pid();
    }

    /** SIGTERM, as dockerd does on disable; returns the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError("the plugin did not exit within 15 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** SIGKILL, as a crash. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (null != process && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
