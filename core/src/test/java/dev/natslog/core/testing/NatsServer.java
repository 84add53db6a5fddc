package dev.natslog.core.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code nats-server} (Debian's package) on a free loopback port, stopped by its PID. Restartable on the
 * same port.
 */
public final class NatsServer implements AutoCloseable {
    private final int port;
    private final List<String> extraArgs;
    private final Path log;
    private Process process;

    private NatsServer(final int port, final List<String> extraArgs, final Path log) {
        this.port = port;
        this.extraArgs = extraArgs;
        this.log = log;
    }

    /** Starts a server with extra command-line arguments (e.g. {@code --user u --pass p}). */
    public static NatsServer start(final Path workDir, final String... args) throws IOException, InterruptedException {
        final NatsServer s = new NatsServer(freePort(), List.of(args), workDir.resolve("nats-" + System.nanoTime() + ".log"));
        s.start();
        return s;
    }

    /** Starts a server on a given port (e.g. NATS's default 4222, or a cluster's planned ports). */
    public static NatsServer startOn(final Path workDir, final int port, final String... args)
        throws IOException, InterruptedException {
        final NatsServer s = new NatsServer(port, List.of(args), workDir.resolve("nats-" + port + "-" + System.nanoTime() + ".log"));
        s.start();
        return s;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public synchronized void start() throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>(List.of("nats-server", "-a", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(extraArgs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("nats-server exited: " + Files.readString(log));
            }
            try (Socket ignored = new Socket()) {
                ignored.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (final IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IOException("nats-server did not listen on " + port);
    }

    /** Stops it by PID (SIGKILL when {@code hard}); the port stays reserved for a restart. */
    public synchronized void stop(final boolean hard) throws InterruptedException {
        if (null != process && process.isAlive()) {
            if (hard) {
                process.destroyForcibly();
            } else {
                process.destroy();
            }
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    public int port() {
        return port;
    }

    /** @return the server's own log (what it printed). */
    public String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        stop(true);
    }
}
