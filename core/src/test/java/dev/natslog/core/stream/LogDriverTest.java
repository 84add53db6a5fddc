package dev.natslog.core.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.natslog.core.config.OptionException;
import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.testing.Fifo;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LogDriverTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private NatsServer nats;
    private LogDriver driver;
    private final List<FileChannel> writers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        nats = NatsServer.start(dir);
        driver = new LogDriver(DriverConfig.defaults("test-host", dir.resolve("state")).withConnectionLinger(LINGER));
    }

    /** A connection no stream uses stays open this long here (30 s in the plugin). */
    private static final Duration LINGER = Duration.ofSeconds(2);

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (final FileChannel w : writers) {
                w.close();
            }
            if (null != driver) {
                driver.close();
            }
        } finally {
            if (null != nats) {
                nats.close();
            }
        }
    }

    static ContainerInfo container(final String id, final String name, final Map<String, String> config) {
        return new ContainerInfo(config, id, "/" + name, "sh", List.of(), "sha256:abc", "img:1", "", List.of(),
            Map.of(), "", "docker");
    }

    static String id(final int n) {
        return String.format("%064x", n);
    }

    private FileChannel fifo(final String name) throws Exception {
        final FileChannel w = Fifo.openWriter(Fifo.make(dir.resolve(name)));
        writers.add(w);
        return w;
    }

    static void write(final FileChannel w, final byte[] bytes) throws IOException {
        final ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            w.write(b);
        }
    }

    static byte[] frame(final long time, final String line) {
        return Frames.frame(Entry.of("stdout", time, line));
    }

    static List<JsonNode> receive(final Subscription sub, final int n, final Duration timeout) throws Exception {
        final List<JsonNode> out = new ArrayList<>();
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            final io.nats.client.Message m = sub.nextMessage(Duration.ofMillis(200));
            if (null != m) {
                out.add(JSON.readTree(m.getData()));
            }
        }
        return out;
    }

    @Test
    void linesOfSeveralContainersArriveExactlyAndInOrder() throws Exception {
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe("logs.>");
            sub.flush(Duration.ofSeconds(2));
            final int containers = 4;
            final int lines = 5000;
            final List<FileChannel> ws = new ArrayList<>();
            for (int c = 0; c < containers; c++) {
                final FileChannel w = fifo("c" + c);
                ws.add(w);
                driver.start(dir.resolve("c" + c).toString(), container(id(c), "app" + c,
                    Map.of("nats-servers", nats.url(), "nats-subject", "logs.app" + c)), "{}".getBytes());
            }
            for (int i = 0; i < lines; i++) {
                for (int c = 0; c < containers; c++) {
                    write(ws.get(c), frame(i, "container " + c + " line " + i));
                }
            }
            for (int c = 0; c < containers; c++) {
                driver.stop(dir.resolve("c" + c).toString());
                ws.get(c).close();
            }
            final List<JsonNode> got = receive(s, containers * lines, Duration.ofSeconds(30));
            assertEquals(containers * lines, got.size());
            final int[] next = new int[containers];
            for (final JsonNode e : got) {
                final int c = Integer.parseInt(e.get("container_name").asText().substring(3));
                assertEquals("container " + c + " line " + next[c], e.get("text").asText());
                next[c]++;
            }
            waitFor(() -> 0 == driver.liveStreams(), "streams end after end of file");
            final long ended = System.nanoTime();
            assertEquals(0, Files.list(dir.resolve("state")).count(), "state files removed when streams end");
            assertEquals(1, driver.connections().size(), "the shared connection stays open for the next container");
            waitFor(() -> 0 == driver.connections().size(), "then closes, unused for the linger");
            assertTrue(System.nanoTime() - ended >= LINGER.toNanos() - TimeUnit.MILLISECONDS.toNanos(100),
                "not before the linger");
            // the StopLogging deadlines went with their streams: a stopped stream is not kept for STOP_GRACE
            // (short-lived containers kept a minute of streams, and their connections' buffers, on the heap)
            assertEquals(1, driver.timerTasksForTest(), "only the timer's periodic report waits");
        }
    }

    @Test
    void aContainerStartedWithinTheLingerTakesTheOpenConnectionAndItsLinesArrive() throws Exception {
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe("logs.short");
            sub.flush(Duration.ofSeconds(2));
            final Map<String, String> opts = Map.of("nats-servers", nats.url(), "nats-subject", "logs.short");
            final FileChannel first = fifo("short1");
            driver.start(dir.resolve("short1").toString(), container(id(21), "short1", opts), "{}".getBytes());
            final Object connection = connectionOf(container(id(21), "short1", opts));
            write(first, frame(1, "first container"));
            driver.stop(dir.resolve("short1").toString());
            first.close();
            writers.remove(first);
            assertEquals(1, receive(s, 1, Duration.ofSeconds(10)).size());
            waitFor(() -> 0 == driver.liveStreams(), "the first container's stream ends");
            assertEquals(1, driver.connections().size(), "its connection lingers");
            final FileChannel second = fifo("short2");
            driver.start(dir.resolve("short2").toString(), container(id(22), "short2", opts), "{}".getBytes());
            final Object again = connectionOf(container(id(22), "short2", opts));
            assertTrue(connection == again, "the second container took the lingering connection");
            write(second, frame(2, "second container"));
            final List<JsonNode> got = receive(s, 1, Duration.ofSeconds(10));
            assertEquals("second container", got.get(0).get("text").asText());
            Thread.sleep(LINGER.toMillis() + 500);
            assertEquals(1, driver.connections().size(), "in use: not closed when the first linger would have ended");
        }
    }

    /** @return the shared connection a started container's stream uses (looked up, not kept). */
    private Object connectionOf(final ContainerInfo info) throws Exception {
        final dev.natslog.core.nats.SharedConnection c = driver.connections().acquire(
            dev.natslog.core.config.StreamSettings.resolve(info,
                dev.natslog.core.config.LogOptions.parse(info.config(), Map.of()), "test-host").connection());
        driver.connections().release(c);
        return c;
    }

    @Test
    void theDefaultSubjectIsTheTagAndRepeatedStartChangesNothing() throws Exception {
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe(">");
            sub.flush(Duration.ofSeconds(2));
            final FileChannel w = fifo("f");
            final String file = dir.resolve("f").toString();
            final ContainerInfo info = container(id(7), "web", Map.of("nats-servers", nats.url()));
            driver.start(file, info, "{}".getBytes());
            driver.start(file, info, "{}".getBytes());
            assertEquals(1, driver.liveStreams());
            assertEquals(1, driver.connections().size());
            write(w, frame(1, "hello"));
            final List<JsonNode> got = receive(s, 1, Duration.ofSeconds(10));
            assertEquals(1, got.size());
            assertEquals("hello", got.get(0).get("text").asText());
            assertEquals("test-host", got.get(0).get("hostname").asText());
            final io.nats.client.Message none = s.nextMessage(Duration.ofMillis(300));
            assertEquals(null, none, "one line, one event, whatever the repeated StartLogging");
        }
    }

    @Test
    void subjectDefaultsToTheRenderedTag() throws Exception {
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe(id(9).substring(0, 12));
            sub.flush(Duration.ofSeconds(2));
            final FileChannel w = fifo("g");
            driver.start(dir.resolve("g").toString(), container(id(9), "web", Map.of("nats-servers", nats.url())),
                "{}".getBytes());
            write(w, frame(1, "on the tag subject"));
            assertEquals(1, receive(s, 1, Duration.ofSeconds(10)).size());
        }
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingIsOpened() throws Exception {
        fifo("bad");
        final OptionException e = assertThrows(OptionException.class, () -> driver.start(dir.resolve("bad").toString(),
            container(id(1), "x", Map.of("nats-max-reconnect", "many")), "{}".getBytes()));
        assertEquals("nats-max-reconnect", e.option());
        assertEquals(0, driver.liveStreams());
        assertEquals(0, driver.connections().size());
        assertFalse(Files.exists(dir.resolve("state")) && Files.list(dir.resolve("state")).findAny().isPresent());
    }

    @Test
    void natsDownAtStartThenUpDeliversTheBufferedLines() throws Exception {
        // the server records the subject in a JetStream stream: a subscriber that joined after the driver connected
        // would miss lines that were delivered
        try (NatsServer js = NatsServer.start(dir, "-js", "-sd", dir.resolve("jetstream").toString())) {
            try (Connection c = Nats.connect(js.url())) {
                c.jetStreamManagement().addStream(io.nats.client.api.StreamConfiguration.builder().name("LATE")
                    .subjects("late").storageType(io.nats.client.api.StorageType.File).build());
            }
            js.stop(true);
            final FileChannel w = fifo("late");
            driver.start(dir.resolve("late").toString(), container(id(3), "late", Map.of("nats-servers", js.url(),
                "nats-subject", "late")), "{}".getBytes());
            for (int i = 0; i < 100; i++) {
                write(w, frame(i, "buffered " + i));
            }
            js.start();
            try (Connection c = Nats.connect(js.url())) {
                final io.nats.client.JetStreamSubscription s = c.jetStream().subscribe("late",
                    io.nats.client.PushSubscribeOptions.builder().ordered(true).build());
                final List<JsonNode> got = receive(s, 100, Duration.ofSeconds(20));
                assertEquals(100, got.size());
                for (int i = 0; i < 100; i++) {
                    assertEquals("buffered " + i, got.get(i).get("text").asText(), "in order, each once");
                }
            }
        }
    }

    @Test
    void natsDownPastTheBoundDropsAndCountsWithoutBlockingTheWriter() throws Exception {
        driver.close();
        driver = new LogDriver(DriverConfig.defaults("h", dir.resolve("state2")).withBufferBytes(64 * 1024));
        nats.stop(true);
        final FileChannel w = fifo("flood");
        driver.start(dir.resolve("flood").toString(), container(id(4), "flood", Map.of("nats-servers", nats.url())),
            "{}".getBytes());
        final byte[] frame = frame(1, "x".repeat(200));
        final long started = System.nanoTime();
        long worst = 0;
        for (int i = 0; i < 20_000; i++) { // ~4.7 MB through a 64 KiB pipe: only a reader that keeps up lets this finish
            final long t = System.nanoTime();
            write(w, frame);
            worst = Math.max(worst, System.nanoTime() - t);
        }
        final long total = System.nanoTime() - started;
        assertTrue(total < TimeUnit.SECONDS.toNanos(30), "the writer finished");
        assertTrue(driver.budget().used() <= 64 * 1024);
        waitFor(() -> streamDrops() > 19_000, "drops counted");
    }

    @Test
    void aContainersOwnBufferSizeBoundsItAloneAndSparesTheOthers() throws Exception {
        nats.stop(true);
        final FileChannel capped = fifo("capped");
        final FileChannel free = fifo("free");
        driver.start(dir.resolve("capped").toString(), container(id(7), "capped", Map.of("nats-servers", nats.url(),
            "nats-subject", "capped", "nats-buffer-size", "64k")), "{}".getBytes());
        driver.start(dir.resolve("free").toString(), container(id(8), "free", Map.of("nats-servers", nats.url(),
            "nats-subject", "free")), "{}".getBytes());
        final byte[] big = frame(1, "y".repeat(300));
        for (int i = 0; i < 5_000; i++) { // ~2.5 MB of events: far past 64k, far below the plugin's 32 MiB
            write(capped, big);
        }
        for (int i = 0; i < 1_000; i++) {
            write(free, frame(i, "kept " + i));
        }
        waitFor(() -> drops("capped") > 4_000, "the capped container's drops counted");
        final LogStream freeStream = stream("free");
        waitFor(() -> freeStream.queue.hasEvents(), "the other container's lines are queued");
        assertEquals(0, freeStream.queue.dropped(), "the other container loses nothing");
        nats.start();
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe("free");
            sub.flush(Duration.ofSeconds(2));
            final List<JsonNode> got = receive(s, 1_000, Duration.ofSeconds(20));
            assertEquals(1_000, got.size());
            for (int i = 0; i < 1_000; i++) {
                assertEquals("kept " + i, got.get(i).get("text").asText());
            }
        }
    }

    @Test
    void theNullPluginDrainsFifosAndNeedsNoNats() throws Exception {
        driver.close();
        final DriverConfig d = DriverConfig.defaults("h", dir.resolve("state3"));
        driver = new LogDriver(new DriverConfig(d.hostname(), d.stateDir(), d.bufferBytes(), d.readerThreads(),
            d.maxLineLength(), d.maxFrameLength(), d.optionDefaults(), true, false, d.publisherNice(),
            d.connectionLinger()));
        nats.stop(true);
        final FileChannel w = fifo("null");
        driver.start(dir.resolve("null").toString(), container(id(9), "null", Map.of("nats-servers", "bad:x")),
            "{}".getBytes());
        final byte[] f = frame(1, "z".repeat(1000));
        for (int i = 0; i < 5_000; i++) { // 5 MB through a 64 KiB pipe: finishes only if it is drained
            write(w, f);
        }
        assertEquals(0, driver.liveStreams(), "no stream, no NATS, no options checked");
        final Path state = dir.resolve("state3");
        try (var files = Files.exists(state) ? Files.list(state) : java.util.stream.Stream.<Path>empty()) {
            assertEquals(0, files.count(), "no saved stream, no journal");
        }
    }

    private LogStream stream(final String name) {
        return driver.streamsForTest().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    private long drops(final String name) {
        return stream(name).queue.dropped();
    }

    private long streamDrops() {
        // the only stream's queue; reach it through the report path: the driver logs, the test reads the counter
        return driver.streamsForTest().stream().mapToLong(s -> s.queue.dropped()).sum();
    }

    @Test
    void malformedFramesAreSkippedAndLaterLinesArrive() throws Exception {
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe("m");
            sub.flush(Duration.ofSeconds(2));
            final FileChannel w = fifo("m");
            driver.start(dir.resolve("m").toString(), container(id(5), "m", Map.of("nats-servers", nats.url(),
                "nats-subject", "m")), "{}".getBytes());
            write(w, frame(1, "before"));
            write(w, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1, 2, 3});
            write(w, frame(2, "after"));
            final List<JsonNode> got = receive(s, 2, Duration.ofSeconds(10));
            assertEquals(List.of("before", "after"), got.stream().map(j -> j.get("text").asText()).toList());
        }
    }

    @Test
    void aKilledPluginsStreamsAreRecoveredFromTheStateDirectory() throws Exception {
        final FileChannel w = fifo("r");
        final String file = dir.resolve("r").toString();
        final byte[] request = ("{\"File\":\"" + file + "\"}").getBytes(StandardCharsets.UTF_8);
        final ContainerInfo info = container(id(6), "r", Map.of("nats-servers", nats.url(), "nats-subject", "r"));
        driver.start(file, info, request);
        driver.close(); // as if the process died: the stream stays saved
        driver = new LogDriver(DriverConfig.defaults("test-host", dir.resolve("state")));
        try (Connection sub = Nats.connect(nats.url())) {
            final Subscription s = sub.subscribe("r");
            sub.flush(Duration.ofSeconds(2));
            final Map<String, Integer> parsed = new HashMap<>();
            assertEquals(1, driver.recover(bytes -> {
                parsed.merge(new String(bytes, StandardCharsets.UTF_8), 1, Integer::sum);
                return new LogDriver.StartRequest(file, info);
            }));
            assertEquals(Map.of(new String(request, StandardCharsets.UTF_8), 1), parsed);
            write(w, frame(1, "after the restart"));
            assertEquals(1, receive(s, 1, Duration.ofSeconds(10)).size());
        }
    }

    static void waitFor(final java.util.function.BooleanSupplier condition, final String what) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(50);
        }
    }
}
