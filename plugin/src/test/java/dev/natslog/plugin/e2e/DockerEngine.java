package dev.natslog.plugin.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private Docker engine (Debian's {@code docker.io}): its own data root, exec root, pidfile and socket, vfs
 * storage, no iptables, no bridge. Stopped by its PID; whatever it leaves mounted under its directory is unmounted.
 * Every docker command runs with a timeout: a stuck plugin makes dockerd hang.
 */
final class DockerEngine implements AutoCloseable {
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    final Path dir;
    final Path socket;
    private final Path pidFile;
    private Process process;

    private DockerEngine(final Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("docker.sock");
        this.pidFile = dir.resolve("docker.pid");
    }

    static DockerEngine start(final Path dir) throws IOException, InterruptedException {
        final DockerEngine e = new DockerEngine(dir);
        Files.createDirectories(dir);
        e.process = new ProcessBuilder("dockerd", "--data-root", dir.resolve("root").toString(),
            "--exec-root", dir.resolve("exec").toString(), "--pidfile", e.pidFile.toString(),
            "-H", "unix://" + e.socket, "--storage-driver", "vfs", "--iptables=false", "--bridge=none")
            .redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile()).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!e.process.isAlive()) {
                throw new IOException("dockerd exited: " + e.log());
            }
            if (Files.exists(e.socket) && 0 == e.docker(10, "version").exit()) {
                return e;
            }
            Thread.sleep(100);
        }
        e.close();
        throw new IOException("dockerd did not answer within 30 s: " + e.log());
    }

    String log() throws IOException {
        final Path log = dir.resolve("dockerd.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Runs the docker CLI against this engine, killed after {@code seconds}. */
    Result docker(final int seconds, final String... args) throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>(List.of("timeout", "-k", "5", Integer.toString(seconds), "docker"));
        cmd.addAll(List.of(args));
        return run(cmd, null);
    }

    /** Runs a command with DOCKER_HOST set to this engine (e.g. scripts/create-plugin.sh). */
    Result run(final List<String> cmd, final Path workDir) throws IOException, InterruptedException {
        final ProcessBuilder pb = new ProcessBuilder(cmd);
        if (null != workDir) {
            pb.directory(workDir.toFile());
        }
        pb.environment().put("DOCKER_HOST", "unix://" + socket);
        final Path out = Files.createTempFile(dir, "out", ".txt");
        final Path err = Files.createTempFile(dir, "err", ".txt");
        final Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.waitFor();
        // lenient: containers may print bytes that are not UTF-8
        final Result r = new Result(p.exitValue(), new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
            new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    /**
     * The host PID of a plugin's process: the java child of the containerd shim started for that plugin's id
     * (the plugin's own {@code /proc/PID/root} shows only "/", from inside its mount namespace).
     */
    long pluginPid(final String pluginId) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (final Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    final String cmdline = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains("nats-log-driver.jar")) {
                        final String stat = Files.readString(p.resolve("stat"));
                        final String ppid = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
                        final String parent = Files.readString(Path.of("/proc", ppid, "cmdline")).replace('\0', ' ');
                        if (parent.contains("containerd-shim") && parent.contains(pluginId)) {
                            return Long.parseLong(p.getFileName().toString());
                        }
                    }
                } catch (final IOException | RuntimeException ignored) {
                    // a process that ended meanwhile, or one we may not read
                }
            }
        }
        return -1;
    }

    /** Stops the engine by its PID (it stops its containerd and plugins), then unmounts what it left. */
    @Override
    public void close() throws InterruptedException {
        if (null != process && process.isAlive()) {
            process.destroy(); // SIGTERM to the dockerd we started
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        unmountUnder(dir);
    }

    static void unmountUnder(final Path dir) {
        try {
            final List<String> mounts = new ArrayList<>();
            for (final String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                final String target = line.split(" ")[1].replace("\\040", " ");
                if (target.startsWith(dir.toString())) {
                    mounts.add(target);
                }
            }
            mounts.sort(Comparator.reverseOrder()); // deepest first
            for (final String m : mounts) {
                new ProcessBuilder("umount", "-l", m).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (final IOException | InterruptedException e) {
            System.err.println("cannot unmount under " + dir + ": " + e);
        }
    }
}
