package dev.natslog.jmh;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End-to-end throughput: the real plugin jar, driven like dockerd (FIFOs, StartLogging/StopLogging on its unix
 * socket, frames written as fast as the pipes take them), publishing into a real nats-server, with a subscriber
 * counting what arrives. In the same run, the ceiling: a plain jnats publisher pushing payloads of the same size
 * through the same server to the same subscriber; and the same payloads as {@code PUB} text in 64 KiB batches
 * (jnats with {@code PubBatchMessage}, the way the plugin publishes).
 *
 * <pre>java -cp jmh/target/benchmarks.jar dev.natslog.jmh.ThroughputBenchmark [plugin.jar] [lines]</pre>
 *
 * Reports lines/s, the plugin's CPU seconds per million lines (and its JIT compilers' share of them), its peak RSS
 * and thread count, for 1 and 16 containers, and 1000 containers at once (scale: threads and memory). Environment:
 * {@code ONLY=N} runs the case of N containers alone; {@code RATE=N} paces the writers to N lines/s in all instead of
 * flooding, the containers side by side (nothing is dropped then: the CPU figure is the cost of a delivered line;
 * and each line's latency from its write to its arrival is reported, see {@link Latencies}), in
 * writes of {@code CHUNK} frames (100; dockerd writes one frame per line: {@code CHUNK=1}); {@code PLUGIN_JVM_FLAGS}
 * replaces config.json's JVM flags; {@code WARMUP=N} sets the lines of the unreported warm-up (300,000) and
 * {@code WARMUP_STREAMS=N} splits them into N streams one after the other (1); {@code LIMIT_S} bounds a case's
 * seconds (300); {@code KEEP} keeps the work directory; {@code STATE_PARENT=dir} makes the plugin's state directory
 * (its journals) under that directory instead of the work directory (e.g. a tmpfs, to compare file systems; the
 * FIFOs follow {@code -Djava.io.tmpdir}); {@code THREADS=1} prints, after each case, the plugin's CPU by
 * thread, nats-server's CPU, this harness's busiest threads and how many lines had arrived every 100 ms;
 * {@code REPEAT=N} runs each case N times, a new stream each time; {@code NULL_PLUGIN=1} runs the plugin as the null
 * plugin ({@code DRAIN_ONLY=true}: it reads the FIFOs and throws the bytes away), whose CPU per line written is the
 * floor of reading the same FIFOs the same way; {@code IDLE_S=N} runs, instead of the cases, containers that log
 * nothing ({@code ONLY} of them, 1000 by default) for N seconds after the warm-up and reports the plugin's CPU and
 * wake-ups meanwhile (what a host of quiet containers pays for the plugin when nothing happens).
 */
public final class ThroughputBenchmark {
    private static final String SUBJECT_PREFIX = "bench.";
    private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();
    /** The plugins' state directories made under {@code STATE_PARENT}, removed with the work directory. */
    private static final List<Path> STATE_DIRS_ELSEWHERE = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ThroughputBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        final Path jar = Path.of(args.length > 0 ? args[0] : "plugin/target/nats-log-driver.jar").toAbsolutePath();
        final int lines = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        final String only = System.getenv("ONLY"); // e.g. ONLY=1 runs one case
        final int most = null == only ? 16 : Integer.parseInt(only);
        if (lines < most) {
            System.err.println("lines (" + lines + ") is the total over the containers: give at least " + most
                + " (ONLY=" + most + ")");
            System.exit(2);
        }
        final Path dir = Files.createTempDirectory("nats-throughput-");
        // interrupted (Ctrl-C, SIGTERM): stop the nats-server and the plugin this run started, by their PIDs, and
        // remove the run's directory; a normal end has done both already
        final Thread cleanUp = new Thread(() -> {
            ProcessHandle.current().children().forEach(ProcessHandle::destroy);
            ProcessHandle.current().children().forEach(c -> {
                try {
                    c.onExit().get(10, TimeUnit.SECONDS);
                } catch (final Exception e) {
                    c.destroyForcibly();
                }
            });
            if (null == System.getenv("KEEP")) {
                deleteTree(dir);
                STATE_DIRS_ELSEWHERE.forEach(ThroughputBenchmark::deleteTree);
            }
        });
        Runtime.getRuntime().addShutdownHook(cleanUp);
        final int port = freePort();
        final Process nats = new ProcessBuilder("nats-server", "-a", "127.0.0.1", "-p", Integer.toString(port))
            .redirectErrorStream(true).redirectOutput(dir.resolve("nats.log").toFile()).start();
        natsPid = nats.pid();
        Process plugin = null;
        try {
            waitForPort(port);
            final String url = "nats://127.0.0.1:" + port;
            final AtomicLong received = new AtomicLong();
            // counts on the protocol itself: jnats' subscriber fell behind at these rates (see NatsSubscription)
            try (NatsSubscription sub = new NatsSubscription("127.0.0.1", port, SUBJECT_PREFIX + ">",
                (buf, subjectFrom, subjectTo, payloadFrom, payloadTo) -> {
                    final Latencies l = latencies;
                    if (null != l) {
                        l.record(buf, payloadFrom, payloadTo);
                    }
                    received.incrementAndGet(); // after the record: a reader of the count sees it
                })) {

                final byte[] line = Lines.text(100, Lines.Kind.ASCII, 1);
                final int eventSize = 450; // what the plugin publishes for a 100-byte line with the 6 metadata fields
                System.out.printf("machine: %d cores, %s%n", Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.version"));
                System.out.printf("%-34s %12s %14s %12s %10s %8s%n", "case", "lines/s", "CPU s/M lines", "peak RSS MB",
                    "threads", "lost");

                final double[] ceilingCpu = new double[1];
                final double ceiling = ceiling(url, lines, eventSize, received, ceilingCpu, false);
                System.out.printf("%-34s %,12.0f %14.2f %12s %10s %8s   (jnats alone: its publishing and writer threads)%n",
                    "ceiling: plain jnats publisher", ceiling, ceilingCpu[0] / (lines / 1e6), "-", "-", "0");
                final double batched = ceiling(url, lines, eventSize, received, ceilingCpu, true);
                System.out.printf("%-34s %,12.0f %14.2f %12s %10s %8s   (%.0f %% of the ceiling; PUBs in 64 KiB batches, as the plugin)%n",
                    "jnats, batched (PubBatchMessage)", batched, ceilingCpu[0] / (lines / 1e6), "-", "-", "0",
                    100 * batched / ceiling);

                plugin = startPlugin(jar, dir);
                final Path socket = dir.resolve("nats.sock");
                // JIT warm-up, not reported: WARMUP lines from one container, as fast as the pipe takes them, in
                // WARMUP_STREAMS streams one after the other (a new stream takes paths the first did not: C2
                // recompiles after each of the first few)
                final int warmupStreams = Integer.parseInt(System.getenv().getOrDefault("WARMUP_STREAMS", "1"));
                final int warmupLines = Integer.parseInt(System.getenv().getOrDefault("WARMUP", "300000"));
                for (int w = 0; w < warmupStreams; w++) {
                    run(plugin, socket, dir, url, 1, warmupLines / warmupStreams, line, received, ceiling, true);
                }
                if (null != System.getenv("IDLE_S")) {
                    idle(plugin, socket, dir, url, null == only ? 1000 : most, Integer.parseInt(System.getenv("IDLE_S")));
                    return;
                }
                // REPEAT=N runs each case N times, a new stream each time (how the cost settles as the JIT does)
                final int repeat = Integer.parseInt(System.getenv().getOrDefault("REPEAT", "1"));
                for (final int containers : null == only ? new int[] {1, 16} : new int[] {Integer.parseInt(only)}) {
                    for (int r = 0; r < repeat; r++) {
                        run(plugin, socket, dir, url, containers, lines / containers, line, received, ceiling);
                    }
                }
                if (null == only) {
                    run(plugin, socket, dir, url, 1000, 200, line, received, ceiling);
                }
            }
        } finally {
            if (null != plugin) {
                plugin.destroy();
                plugin.waitFor(15, TimeUnit.SECONDS);
            }
            nats.destroy();
            nats.waitFor(10, TimeUnit.SECONDS);
            if (null == System.getenv("KEEP")) {
                deleteTree(dir);
                STATE_DIRS_ELSEWHERE.forEach(ThroughputBenchmark::deleteTree);
            } else {
                System.out.println("kept " + dir);
            }
        }
    }

    /** Removes a run's directory and everything in it (best effort: also called at exit, maybe twice). */
    private static void deleteTree(final Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (final IOException | RuntimeException ignored) {
            // already gone, or not ours to fail on
        }
    }

    /**
     * @param batched false: {@code publish} per message (the ceiling); true: the messages as protocol text in
     *                64 KiB batches handed to jnats' writer with {@code PubBatchMessage}, as the plugin publishes.
     * @return the ceiling's messages per second; {@code cpuOut[0]} gets the CPU seconds that jnats' publishing took
     *     (the publishing thread and the connection's writer thread): its own cost per message, the floor of any
     *     publisher built on it.
     */
    private static double ceiling(final String url, final int n, final int size, final AtomicLong received,
                                  final double[] cpuOut, final boolean batched) throws Exception {
        final byte[] payload = new byte[size];
        java.util.Arrays.fill(payload, (byte) 'x');
        final long before = received.get();
        final ThreadFactory writerThreads = r -> Thread.ofPlatform().name("ceiling-writer").daemon(true).unstarted(r);
        try (Connection pub = Nats.connect(new Options.Builder().server(url).maxMessagesInOutgoingQueue(65_536)
            .writerThreadFactory(writerThreads).build())) {
            final long writer0 = threadTicks("ceiling-writer");
            final long t0 = System.nanoTime();
            final long cpu0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            if (batched) {
                publishBatched(pub, payload, n);
            } else {
                for (int i = 0; i < n; i++) {
                    pub.publish(SUBJECT_PREFIX + "ceiling", payload.clone()); // a fresh array per message
                }
            }
            pub.flush(Duration.ofSeconds(60));
            final long cpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu0;
            waitFor(received, before + n, 120);
            final double rate = n / ((System.nanoTime() - t0) / 1e9);
            cpuOut[0] = cpu / 1e9 + (threadTicks("ceiling-writer") - writer0) / 100.0;
            return rate;
        }
    }

    /** Publishes n copies of the payload as {@code PUB} text in 64 KiB batches, each batch in an array of its own. */
    private static void publishBatched(final Connection pub, final byte[] payload, final int n) {
        final byte[] control = ("PUB " + SUBJECT_PREFIX + "ceiling " + payload.length + "\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final int each = control.length + payload.length + 2;
        final byte[] scratch = new byte[Options.DEFAULT_BUFFER_SIZE];
        for (int i = 0; i < n; ) {
            int length = 0;
            for (; i < n && length + each <= scratch.length; i++) {
                System.arraycopy(control, 0, scratch, length, control.length);
                System.arraycopy(payload, 0, scratch, length + control.length, payload.length);
                scratch[length + each - 2] = '\r';
                scratch[length + each - 1] = '\n';
                length += each;
            }
            io.nats.client.impl.PubBatchMessage.queue(pub, java.util.Arrays.copyOf(scratch, length), length,
                control.length - 2);
        }
    }

    /** The paced case's latencies, or null (written by the case, read by the subscriber's thread). */
    private static volatile Latencies latencies;

    /**
     * Paced cases: how long each line took from its write into the FIFO to its event's arrival at the subscriber.
     * The writer puts {@link System#nanoTime()} in the first 19 bytes of each line's text just before the write; the
     * subscriber (same JVM, same clock) reads it back from the end of the event (the text is its last field, 100
     * ASCII bytes with nothing to escape). Written on the subscriber's thread only.
     */
    private static final class Latencies {
        private static final byte[] TEXT_FIELD = "\"text\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final long[] nanos;
        private final long start = System.nanoTime();
        /** The longest latency among the lines that arrived in each second of the case. */
        private final long[] worstBySecond = new long[3600];
        private int count;
        private int unreadable;

        Latencies(final long lines) {
            nanos = new long[(int) Math.min(lines, 50_000_000)];
        }

        /** Writes the time into each frame's line: the last {@code lineLength} bytes of each of the equal frames. */
        static void stamp(final byte[] frames, final int n, final int lineLength) {
            final long now = System.nanoTime();
            final int frameLength = frames.length / n;
            for (int f = 0; f < n; f++) {
                long v = now;
                for (int i = (f + 1) * frameLength - lineLength + 18; i >= (f + 1) * frameLength - lineLength; i--) {
                    frames[i] = (byte) ('0' + v % 10);
                    v /= 10;
                }
            }
        }

        void record(final byte[] buf, final int from, final int to) {
            final long now = System.nanoTime();
            final int text = to - 2 - 100; // …"text":"<100 bytes>"}
            if (text - TEXT_FIELD.length < from
                || !java.util.Arrays.equals(buf, text - TEXT_FIELD.length, text, TEXT_FIELD, 0, TEXT_FIELD.length)) {
                unreadable++;
                return;
            }
            long v = 0;
            for (int i = text; i < text + 19; i++) {
                v = v * 10 + (buf[i] - '0');
            }
            if (count < nanos.length) {
                nanos[count++] = now - v;
            }
            final int second = (int) Math.min(worstBySecond.length - 1, (now - start) / 1_000_000_000L);
            worstBySecond[second] = Math.max(worstBySecond[second], now - v);
        }

        String summary() {
            final long[] s = java.util.Arrays.copyOf(nanos, count);
            java.util.Arrays.sort(s);
            if (0 == s.length) {
                return "no stamped line arrived (" + unreadable + " unreadable)";
            }
            final StringBuilder worst = new StringBuilder();
            final int seconds = (int) Math.min(worstBySecond.length, (System.nanoTime() - start) / 1_000_000_000L + 1);
            for (int i = 0; i < seconds; i++) {
                worst.append(' ').append(Math.round(worstBySecond[i] / 1e6));
            }
            return String.format("p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (%,d lines%s); the worst of each"
                    + " second, ms:%s", s[s.length / 2] / 1e6, s[(int) (s.length * 0.99)] / 1e6,
                s[(int) (s.length * 0.999)] / 1e6, s[s.length - 1] / 1e6, s.length,
                0 == unreadable ? "" : ", " + unreadable + " unreadable", worst);
        }
    }

    /** The nats-server's, for THREADS=1. */
    private static long natsPid;
    /** NULL_PLUGIN=1: nothing reaches NATS; a case ends a second after its writers and counts lines written. */
    private static final boolean NULL_PLUGIN = null != System.getenv("NULL_PLUGIN");

    /** @return the CPU clock ticks (utime + stime) of this process's threads of that name. */
    private static long threadTicks(final String name) throws IOException {
        return threadTicksByName("self").getOrDefault(name, 0L);
    }

    /**
     * @return the CPU clock ticks of a process's JIT compiler threads (HotSpot's "C1/C2 CompilerThreadN", named
     *     "C1 CompilerThre…" in /proc); a compiler thread that ended meanwhile takes its ticks with it.
     */
    private static long compilerTicks(final long pid) throws IOException {
        return threadTicksByName(Long.toString(pid)).entrySet().stream()
            .filter(e -> e.getKey().startsWith("C1 Compiler") || e.getKey().startsWith("C2 Compiler"))
            .mapToLong(Map.Entry::getValue).sum();
    }

    /** @return the CPU clock ticks (utime + stime) of a process's live threads, summed by thread name. */
    private static Map<String, Long> threadTicksByName(final String pid) throws IOException {
        final Map<String, Long> byName = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
            for (final Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    byName.merge(Files.readString(t.resolve("comm")).trim(), ticks(t.resolve("stat")), Long::sum);
                } catch (final IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return byName;
    }

    /**
     * @return " name=seconds" for each of a process's threads that used CPU since {@code before} (from
     *     {@link #threadTicksByName}), busiest first, at most {@code limit} of them.
     */
    private static String cpuSince(final String pid, final Map<String, Long> before, final int limit)
        throws IOException {
        final StringBuilder out = new StringBuilder();
        threadTicksByName(pid).entrySet().stream()
            .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
            .filter(e -> e.getValue() > 0).sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(limit)
            .forEach(e -> out.append(' ').append(e.getKey()).append('=').append(e.getValue() / 100.0));
        return out.toString();
    }

    private static void run(final Process plugin, final Path socket, final Path dir, final String url, final int containers,
                            final int perContainer, final byte[] line, final AtomicLong received, final double ceiling)
        throws Exception {
        run(plugin, socket, dir, url, containers, perContainer, line, received, ceiling, false);
    }

    private static void run(final Process plugin, final Path socket, final Path dir, final String url, final int containers,
                            final int perContainer, final byte[] line, final AtomicLong received, final double ceiling,
                            final boolean quiet)
        throws Exception {
        final List<Path> fifos = new ArrayList<>();
        final List<FileChannel> writers = new ArrayList<>();
        startStreams(socket, dir, url, containers, fifos, writers);
        // RATE=N paces the writers to N lines/s in all (in chunks of 100 frames): no flood, so nothing is dropped
        // and the CPU column is the plugin's cost per line at that rate
        final String rateSetting = quiet ? null : System.getenv("RATE");
        final double rate = null == rateSetting ? 0 : Double.parseDouble(rateSetting);
        // CHUNK=N: frames per write when paced (dockerd writes one frame per line: CHUNK=1)
        final int framesPerChunk = Math.min(perContainer,
            rate > 0 ? Integer.parseInt(System.getenv().getOrDefault("CHUNK", "100")) : 2000);
        final byte[] chunk = frames(line, framesPerChunk);
        // paced: each write stamps its lines with the time it is written, the subscriber takes the time of arrival
        final Latencies caseLatencies = rate > 0 && !quiet ? new Latencies((long) containers * perContainer) : null;
        latencies = caseLatencies;
        final long total = (long) containers * perContainer;
        final long before = received.get();
        final long cpu0 = cpuTicks(plugin.pid());
        final long jit0 = compilerTicks(plugin.pid());
        // THREADS=1: the plugin's CPU by thread over the case, and what had arrived every 100 ms
        final boolean byThread = !quiet && null != System.getenv("THREADS");
        final Map<String, Long> threads0 = byThread ? threadTicksByName(Long.toString(plugin.pid())) : null;
        final Map<String, Long> harness0 = byThread ? threadTicksByName("self") : null;
        final long nats0 = byThread ? cpuTicks(natsPid) : 0;
        final StringBuilder timeline = new StringBuilder();
        long nextMark = 0;
        final long t0 = System.nanoTime();
        final List<Thread> threads = new ArrayList<>();
        final double[] writeSeconds = new double[1];
        final int writerThreads = Math.min(containers, 16);
        for (int w = 0; w < writerThreads; w++) {
            final int first = w;
            threads.add(Thread.ofPlatform().start(() -> {
                final byte[] own = null == caseLatencies ? chunk : chunk.clone(); // stamped by this writer alone
                try {
                    long written = 0;
                    final int chunks = (perContainer + framesPerChunk - 1) / framesPerChunk;
                    // a flood fills one container's FIFO after the other; paced, the containers write side by side
                    final int outer = rate > 0 ? chunks : 1;
                    final int inner = rate > 0 ? 1 : chunks;
                    for (int round = 0; round < outer; round++) {
                        for (int c = first; c < containers; c += writerThreads) {
                            for (int k = 0; k < inner; k++) {
                                if (null != caseLatencies) {
                                    Latencies.stamp(own, framesPerChunk, line.length);
                                }
                                final ByteBuffer b = ByteBuffer.wrap(own);
                                while (b.hasRemaining()) {
                                    writers.get(c).write(b);
                                }
                                written += framesPerChunk;
                                if (rate > 0) { // this writer's share of the rate
                                    final long due = t0 + (long) (written * 1e9 * writerThreads / rate);
                                    java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                                }
                            }
                        }
                    }
                } catch (final IOException e) {
                    throw new RuntimeException(e);
                }
                synchronized (writeSeconds) {
                    writeSeconds[0] = Math.max(writeSeconds[0], (System.nanoTime() - t0) / 1e9);
                }
            }));
        }
        int peakThreads = 0;
        long lastCount = -1;
        long lastChange = System.nanoTime();
        long lastArrival = t0;
        // done when every line arrived, or when the writers are done and nothing more arrives (the rest was dropped:
        // the plugin drops the newest events once its buffer is full, rather than slow the writer)
        while (received.get() < before + total) {
            peakThreads = Math.max(peakThreads, threads(plugin.pid()));
            final long now = System.nanoTime();
            final long count = received.get();
            if (count != lastCount) {
                lastCount = count;
                lastChange = now;
                lastArrival = now;
            }
            if (byThread && now - t0 >= nextMark) {
                timeline.append(' ').append((count - before) / 1000).append('k');
                nextMark += TimeUnit.MILLISECONDS.toNanos(100);
            }
            final boolean writing = threads.stream().anyMatch(Thread::isAlive);
            if (!writing && (NULL_PLUGIN || now - lastChange > TimeUnit.SECONDS.toNanos(2))) {
                break;
            }
            if (now - t0 > TimeUnit.SECONDS.toNanos(Long.parseLong(System.getenv().getOrDefault("LIMIT_S", "300")))) {
                break;
            }
            Thread.sleep(10);
        }
        if (received.get() >= before + total) {
            lastArrival = System.nanoTime();
        }
        if (NULL_PLUGIN) {
            Thread.sleep(1000); // what the writers left in the pipes is read meanwhile
        }
        final double seconds = NULL_PLUGIN ? writeSeconds[0] : (lastArrival - t0) / 1e9;
        final long delivered = NULL_PLUGIN ? total : received.get() - before; // the null plugin: lines written
        final double cpu = (cpuTicks(plugin.pid()) - cpu0) / 100.0;
        final double jit = (compilerTicks(plugin.pid()) - jit0) / 100.0;
        if (byThread) {
            System.out.println("  plugin CPU s by thread:"
                + cpuSince(Long.toString(plugin.pid()), threads0, Integer.MAX_VALUE));
            System.out.println("  nats-server CPU s: " + (cpuTicks(natsPid) - nats0) / 100.0
                + "; this harness's busiest threads (the subscriber's among them):" + cpuSince("self", harness0, 5));
            System.out.println("  arrived every 100 ms:" + timeline);
        }
        stopStreams(socket, fifos, writers);
        final long lost = Math.max(0, total - delivered);
        latencies = null;
        if (quiet) {
            return;
        }
        if (null != caseLatencies) {
            System.out.println("  from write to arrival: " + caseLatencies.summary());
        }
        System.out.printf("%-34s %,12.0f %14.2f %12d %10d %8d   (%.0f %% of the ceiling; written in %.2f s, delivered in %.2f s;"
                + " JIT compilers %.2f s/M lines of the CPU)%n",
            "plugin, " + containers + " container" + (containers > 1 ? "s" : "") + " x " + perContainer + " lines",
            delivered / seconds, cpu / (delivered / 1e6), peakRssMb(plugin.pid()), peakThreads, lost,
            100 * (delivered / seconds) / ceiling, writeSeconds[0], seconds, jit / (delivered / 1e6));
    }

    /**
     * A case's streams, as dockerd makes them: a FIFO each, held open for writing (into {@code fifos} and
     * {@code writers}), and a StartLogging each.
     */
    private static void startStreams(final Path socket, final Path dir, final String url, final int containers,
                                     final List<Path> fifos, final List<FileChannel> writers) throws Exception {
        for (int c = 0; c < containers; c++) {
            final Path f = dir.resolve("fifo-" + RUNS.get() + "-" + c);
            if (0 != new ProcessBuilder("mkfifo", f.toString()).start().waitFor()) {
                throw new IOException("mkfifo failed");
            }
            fifos.add(f);
            writers.add(FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE));
            startLogging(socket, f, url, containers, c);
        }
        RUNS.incrementAndGet();
    }

    /** StopLogging for each of a case's streams, then dockerd's end of its FIFO closed. */
    private static void stopStreams(final Path socket, final List<Path> fifos, final List<FileChannel> writers)
        throws IOException {
        for (int c = 0; c < fifos.size(); c++) {
            post(socket, "LogDriver.StopLogging", "{\"File\":\"" + fifos.get(c) + "\"}");
            writers.get(c).close();
        }
    }

    /** StartLogging for container {@code c} of a case of {@code containers}, as dockerd sends it. */
    private static void startLogging(final Path socket, final Path fifo, final String url, final int containers,
                                     final int c) throws IOException {
        final String id = String.format("%064x", RUNS.get() * 10_000L + c);
        post(socket, "LogDriver.StartLogging", "{\"File\":\"" + fifo + "\",\"Info\":{\"Config\":{\"nats-servers\":\"" + url
            + "\",\"nats-subject\":\"" + SUBJECT_PREFIX + containers + "\"},\"ContainerID\":\"" + id
            + "\",\"ContainerName\":\"/bench" + c + "\",\"ContainerImageID\":\"sha256:3650cccccccccccccccccccccccccccccccccccccccccccccccccccccccc6cc\","
            + "\"ContainerImageName\":\"nginx:1.27\",\"DaemonName\":\"docker\"}}");
    }

    /**
     * IDLE_S: {@code containers} streams whose FIFOs stay open and silent; after 2 s to settle, the plugin's CPU over
     * {@code seconds}, in all and by thread, and each thread's wake-ups (voluntary context switches) a second.
     */
    private static void idle(final Process plugin, final Path socket, final Path dir, final String url,
                             final int containers, final int seconds) throws Exception {
        final List<Path> fifos = new ArrayList<>();
        final List<FileChannel> writers = new ArrayList<>();
        startStreams(socket, dir, url, containers, fifos, writers);
        Thread.sleep(2000);
        final String pid = Long.toString(plugin.pid());
        final Map<String, Long> ticks0 = threadTicksByName(pid);
        final Map<String, Long> switches0 = wakeUpsByName(pid);
        final long cpu0 = cpuTicks(plugin.pid());
        Thread.sleep(seconds * 1000L);
        final double cpu = (cpuTicks(plugin.pid()) - cpu0) / 100.0;
        final StringBuilder wakeUps = new StringBuilder();
        wakeUpsByName(pid).entrySet().stream()
            .map(e -> Map.entry(e.getKey(), e.getValue() - switches0.getOrDefault(e.getKey(), 0L)))
            .filter(e -> e.getValue() > 0).sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
            .forEach(e -> wakeUps.append(' ').append(e.getKey()).append('=')
                .append(String.format("%.1f", e.getValue() / (double) seconds)));
        System.out.printf("plugin, %d idle containers, %d s: %.2f s of CPU (%.2f %% of a core), %d MB RSS now (%d MB"
                + " at its peak, the warm-up's flood), %d threads%n", containers, seconds, cpu, 100 * cpu / seconds,
            Long.parseLong(status(plugin.pid(), "VmRSS:").replace("kB", "").trim()) / 1024, peakRssMb(plugin.pid()),
            threads(plugin.pid()));
        System.out.println("  CPU s by thread:" + cpuSince(pid, ticks0, Integer.MAX_VALUE));
        System.out.println("  wake-ups a second by thread:" + wakeUps);
        stopStreams(socket, fifos, writers);
    }

    /** @return voluntary context switches (the thread slept and was woken) of a process's live threads, by name. */
    private static Map<String, Long> wakeUpsByName(final String pid) throws IOException {
        final Map<String, Long> byName = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
            for (final Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    for (final String l : Files.readAllLines(t.resolve("status"))) {
                        if (l.startsWith("voluntary_ctxt_switches:")) {
                            byName.merge(Files.readString(t.resolve("comm")).trim(),
                                Long.parseLong(l.substring(l.indexOf(':') + 1).trim()), Long::sum);
                        }
                    }
                } catch (final IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return byName;
    }

    private static byte[] frames(final byte[] line, final int n) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        long time = 1_795_631_425_123_456_789L;
        for (int i = 0; i < n; i++) {
            out.writeBytes(Lines.frame(line, time += 1000));
        }
        return out.toByteArray();
    }

    private static Process startPlugin(final Path jar, final Path dir) throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // config.json's entrypoint flags (or $PLUGIN_JVM_FLAGS to try others)
        final List<String> cmd = new ArrayList<>(List.of(java));
        final String flags = System.getenv("PLUGIN_JVM_FLAGS");
        if (null != flags) {
            cmd.addAll(List.of(flags.trim().split("\\s+")));
        } else {
            cmd.addAll(entrypointFlags());
        }
        cmd.addAll(List.of("-jar", jar.toString()));
        final ProcessBuilder pb = new ProcessBuilder(cmd)
            .redirectErrorStream(true).redirectOutput(dir.resolve("plugin.log").toFile());
        pb.environment().put("LOG_DRIVER_SOCKET", dir.resolve("nats.sock").toString());
        final String stateParent = System.getenv("STATE_PARENT");
        final Path state = null == stateParent ? dir.resolve("state")
            : Files.createTempDirectory(Path.of(stateParent), "nats-state-");
        if (null != stateParent) {
            STATE_DIRS_ELSEWHERE.add(state);
        }
        pb.environment().put("STATE_DIR", state.toString());
        pb.environment().put("LOG_LEVEL", System.getenv().getOrDefault("PLUGIN_LOG_LEVEL", "WARN"));
        if (NULL_PLUGIN) {
            pb.environment().put("DRAIN_ONLY", "true");
        }
        final Process p = pb.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(dir.resolve("nats.sock")));
                return p;
            } catch (final IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IOException("the plugin did not start: " + Files.readString(dir.resolve("plugin.log")));
    }

    /** The JVM flags of config.json: its JDK_JAVA_OPTIONS default, then the entrypoint's (between java and -jar). */
    private static List<String> entrypointFlags() throws IOException {
        final com.fasterxml.jackson.databind.JsonNode config = new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Path.of("config.json").toFile());
        final List<String> flags = new ArrayList<>();
        for (final com.fasterxml.jackson.databind.JsonNode e : config.get("env")) {
            if (e.get("name").asText().equals("JDK_JAVA_OPTIONS")) {
                flags.addAll(List.of(e.get("value").asText().trim().split("\\s+")));
            }
        }
        final com.fasterxml.jackson.databind.JsonNode entry = config.get("entrypoint");
        for (int i = 1; i < entry.size() && !entry.get(i).asText().equals("-jar"); i++) {
            final String f = entry.get(i).asText();
            // the class data archive goes where this run can write it
            flags.add(f.startsWith("-XX:SharedArchiveFile=")
                ? "-XX:SharedArchiveFile=" + System.getProperty("java.io.tmpdir") + "/nats-log-driver-bench.jsa" : f);
        }
        return flags;
    }

    /** One request as dockerd sends it; fails unless the reply's Err is empty. */
    private static void post(final Path socket, final String method, final String body) throws IOException {
        final byte[] b = body.getBytes(StandardCharsets.UTF_8);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("POST /" + method + " HTTP/1.1\r\nHost: \r\nContent-Length: " + b.length
                + "\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            ch.write(ByteBuffer.wrap(b));
            final ByteBuffer in = ByteBuffer.allocate(4096);
            String reply = "";
            while (!reply.contains("\r\n\r\n{") || !reply.endsWith("}")) {
                if (ch.read(in) < 0) {
                    break;
                }
                reply = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
            }
            if (reply.contains("\"Err\":\"") && !reply.contains("\"Err\":\"\"")) {
                throw new IOException(method + " failed: " + reply);
            }
        }
    }

    private static void waitFor(final AtomicLong counter, final long target, final int seconds) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (counter.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private static long cpuTicks(final long pid) throws IOException {
        return ticks(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** @return utime + stime, in clock ticks (100/s), from a process's or a thread's {@code stat} file. */
    private static long ticks(final Path stat) throws IOException {
        final String line = Files.readString(stat);
        final String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static int threads(final long pid) throws IOException {
        return Integer.parseInt(status(pid, "Threads:"));
    }

    private static long peakRssMb(final long pid) throws IOException {
        return Long.parseLong(status(pid, "VmHWM:").replace("kB", "").trim()) / 1024;
    }

    private static String status(final long pid, final String key) throws IOException {
        for (final String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (l.startsWith(key)) {
                return l.substring(key.length()).trim();
            }
        }
        return "0";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void waitForPort(final int port) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (final IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IOException("nats-server did not listen on " + port);
    }
}
