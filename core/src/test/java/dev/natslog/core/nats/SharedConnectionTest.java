package dev.natslog.core.nats;

import dev.natslog.core.config.ConnectionSettings;
import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LogLine;
import dev.natslog.core.testing.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedConnectionTest {
    @TempDir
    Path dir;

    /** What a crash may send twice is only what is in flight: so the checkpoint must follow every flush. */
    @Test
    void everyFlushHandsTheConfirmedResumeOffsetToTheCheckpointOnThePublisher() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url());
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 20), 0)) {
            final Subscription sub = subscribed(subscriber, "cp");
            final SharedConnection connection = connections.acquire(settings(nats));
            record Checkpoint(long resume, String thread) {
            }
            final ConcurrentLinkedQueue<Checkpoint> checkpoints = new ConcurrentLinkedQueue<>();
            final EventQueue queue = queue("cp",
                resume -> checkpoints.add(new Checkpoint(resume, Thread.currentThread().getName())));
            for (int round = 1; round <= 3; round++) {
                connection.offer(queue, line("line " + round, round, 100L * round));
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, "round " + round + " published");
                final long expected = 100L * round;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (checkpoints.stream().noneMatch(c -> c.resume() == expected) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertTrue(checkpoints.stream().anyMatch(c -> c.resume() == expected),
                    "round " + round + " checkpointed: " + checkpoints);
            }
            for (final Checkpoint c : checkpoints) {
                assertEquals("nats-publisher", c.thread(), "checkpoints are written by the publisher after its flush");
            }
            assertEquals(3, queue.sent());
            connections.release(connection);
            queue.close();
        }
    }

    /**
     * The benchmark's plugin without NATS ({@code DISCARD_EVENTS}): every event is encoded, taken as sent and
     * confirmed — counted, its budget released, its resume offset checkpointed — and none reaches the server; the
     * same events through an ordinary connection do arrive (so the subscriber would have seen them).
     */
    @Test
    void aDiscardingConnectionConfirmsEveryEventAndPublishesNone() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url())) {
            final Subscription sub = subscribed(subscriber, "dry");
            final BufferBudget budget = new BufferBudget(1 << 20);
            final SharedConnection dry = new SharedConnection(settings(nats), budget, 0, true, true);
            dry.connect(NatsConnections.options(settings(nats)).writerThreadFactory(dry.writerThreads()));
            final java.util.concurrent.atomic.AtomicLong checkpointed = new java.util.concurrent.atomic.AtomicLong();
            final EventQueue queue = queue("dry", checkpointed::set);
            for (int i = 1; i <= 500; i++) {
                dry.offer(queue, line("line " + i, i, 10L * i));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((queue.sent() < 500 || checkpointed.get() < 5000) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(500, queue.sent(), "every event counted as sent");
            assertEquals(5000, checkpointed.get(), "the last event's resume offset checkpointed");
            assertEquals(0, budget.used(), "every event's reservation released");
            dry.close(Duration.ofSeconds(5));
            queue.close();

            final SharedConnection wet = new SharedConnection(settings(nats), new BufferBudget(1 << 20), 0);
            wet.connect(NatsConnections.options(settings(nats)).writerThreadFactory(wet.writerThreads()));
            final EventQueue control = queue("dry", resume -> { });
            wet.offer(control, line("control", 1, 1));
            final Message m = sub.nextMessage(Duration.ofSeconds(10));
            assertNotNull(m, "the control event arrives");
            assertTrue(new String(m.getData(), StandardCharsets.UTF_8).contains("\"text\":\"control\""),
                "the first message on the subject is the control event, none of the discarded ones: "
                    + new String(m.getData(), StandardCharsets.UTF_8));
            wet.close(Duration.ofSeconds(5));
            control.close();
        }
    }

    /**
     * A slow trickle — a line every millisecond, each published at once — shares its flushes (PING/PONG round
     * trips): one per {@link SharedConnection#FLUSH_DELAY_NANOS} rather than one per line, and still every line is
     * delivered in order and its offset checkpointed.
     */
    @Test
    void aTrickleOfLinesIsConfirmedByFewerFlushesThanLines() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url());
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 20), 0)) {
            final Subscription sub = subscribed(subscriber, "trickle");
            final SharedConnection connection = connections.acquire(settings(nats));
            final ConcurrentLinkedQueue<Long> checkpoints = new ConcurrentLinkedQueue<>();
            final EventQueue queue = queue("trickle", checkpoints::add);
            final int lines = 200;
            for (int i = 1; i <= lines; i++) {
                connection.offer(queue, line("line " + i, i, 10L * i));
                Thread.sleep(1);
            }
            for (int i = 1; i <= lines; i++) {
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, "line " + i + " delivered");
                assertTrue(new String(m.getData(), StandardCharsets.UTF_8).contains("\"line " + i + "\""),
                    "line " + i + " in order: " + new String(m.getData(), StandardCharsets.UTF_8));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!checkpoints.contains(10L * lines) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(checkpoints.contains(10L * lines), "the last line checkpointed: " + checkpoints);
            assertEquals(lines, queue.sent());
            // one flush per line would be ~200 (the publisher parks between lines); one per 100 ms ~3-5
            assertTrue(checkpoints.size() <= lines / 2, checkpoints.size() + " flushes for " + lines + " lines");
            connections.release(connection);
            queue.close();
        }
    }

    /**
     * Every round: the server is killed, lines are offered at once (while jnats notices and reconnects), the server
     * comes back, and every line so far must be recorded by the server's JetStream stream — which, unlike a
     * subscriber that reconnects after the publisher did, misses nothing the server accepted.
     */
    @Test
    void linesOfferedWhileTheServerIsDownAreAllRecordedAfterItReturns() throws Exception {
        try (NatsServer nats = NatsServer.start(dir, "-js", "-sd", dir.resolve("jetstream").toString());
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 24), 0)) {
            try (Connection c = Nats.connect(nats.url())) {
                c.jetStreamManagement().addStream(io.nats.client.api.StreamConfiguration.builder().name("DIES")
                    .subjects("dies").storageType(io.nats.client.api.StorageType.File).build());
            }
            final SharedConnection connection = connections.acquire(settings(nats));
            final EventQueue queue = queue("dies", resume -> { });
            int next = 0;
            for (int round = 0; round < 4; round++) {
                nats.stop(true);
                for (int i = 0; i < 300; i++, next++) {
                    connection.offer(queue, line("line " + next, next, next + 1));
                }
                nats.start();
                final java.util.Set<String> texts = new java.util.HashSet<>();
                try (Connection c = Nats.connect(nats.url())) {
                    final io.nats.client.JetStreamSubscription sub = c.jetStream().subscribe("dies",
                        io.nats.client.PushSubscribeOptions.builder().ordered(true).build());
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (System.nanoTime() < deadline) { // until the last line is in and nothing more comes
                        final Message m = sub.nextMessage(Duration.ofMillis(200));
                        if (null != m) {
                            final String json = new String(m.getData(), StandardCharsets.UTF_8);
                            texts.add(json.substring(json.indexOf("\"line ") + 1, json.lastIndexOf('"')));
                        } else if (texts.contains("line " + (next - 1))) {
                            break;
                        }
                    }
                }
                for (int i = 0; i < next; i++) {
                    assertTrue(texts.contains("line " + i), "round " + round + ": line " + i + " recorded");
                }
            }
            connections.release(connection);
            queue.close();
        }
    }

    /**
     * Many quiet streams, each getting a line now and then: the publisher, woken by one, waits for others to get
     * ready and publishes them together — and every line still arrives, each stream's in order.
     */
    @Test
    void manyQuietStreamsShareThePublishersWakeUpsAndLoseNothing() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url());
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 22), 0)) {
            final Subscription sub = subscribed(subscriber, "many.>");
            final SharedConnection connection = connections.acquire(settings(nats));
            final int streams = 100;
            final int lines = 20;
            final List<EventQueue> queues = new java.util.ArrayList<>();
            for (int q = 0; q < streams; q++) {
                queues.add(queue("many." + q, resume -> { }));
            }
            for (int i = 1; i <= lines; i++) {
                for (int q = 0; q < streams; q++) {
                    connection.offer(queues.get(q), line("stream " + q + " line " + i, i, 10L * i));
                    LockSupport.parkNanos(100_000); // thousands of streams getting ready a second
                }
            }
            final int[] next = new int[streams];
            java.util.Arrays.fill(next, 1);
            for (int n = 0; n < streams * lines; n++) {
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, "message " + n + " of " + streams * lines);
                final int q = Integer.parseInt(m.getSubject().substring("many.".length()));
                final String event = new String(m.getData(), StandardCharsets.UTF_8);
                assertTrue(event.contains("\"stream " + q + " line " + next[q] + "\""), "in order: " + event);
                next[q]++;
            }
            assertTrue(connection.gathers() > 0, "the publisher gathered ready streams");
            connections.release(connection);
            queues.forEach(EventQueue::close);
        }
    }

    /**
     * The publisher writes events as protocol text in batches of many subjects and sizes (tiny, near and past a
     * batch's 64 KiB, multi-byte subjects); each must arrive on its subject with exactly the bytes the encoder
     * makes, in order — with batches handed to jnats' writer, and event by event through its public API (the path
     * taken if jnats' internals did not link).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "batched={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void everyEventArrivesOnItsSubjectWithItsExactBytesWhateverTheBatching(final boolean batched) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url())) {
            final Subscription sub = subscribed(subscriber, "mix.>");
            final SharedConnection connection = new SharedConnection(settings(nats), new BufferBudget(1 << 26), 0,
                batched);
            connection.connect(NatsConnections.options(settings(nats)).writerThreadFactory(connection.writerThreads()));
            final String[] subjects = {"mix.a", "mix.\u00e9t\u00e9", "mix.c.d"};
            final List<EventQueue> queues = new java.util.ArrayList<>();
            for (final String subject : subjects) {
                queues.add(queue(subject, resume -> { }));
            }
            final int[] sizes = {1, 100, 1000, 30_000, 65_000, 70_000, 200_000};
            final List<List<byte[]>> expected = new java.util.ArrayList<>();
            final java.util.Random random = new java.util.Random(7);
            for (int q = 0; q < subjects.length; q++) {
                expected.add(new java.util.ArrayList<>());
            }
            for (int i = 0; i < 600; i++) {
                final int q = random.nextInt(subjects.length);
                final int size = i % 10 == 0 ? sizes[random.nextInt(sizes.length)] : 50 + random.nextInt(400);
                final LogLine l = line(i + " " + "x".repeat(size), i, i + 1);
                try (JsonEventEncoder encoder = new JsonEventEncoder(
                    JsonEventEncoder.renderPrefix(Map.of("container_name", "web")), PooledByteBufAllocator.DEFAULT)) {
                    expected.get(q).add(encoder.encode(l));
                }
                connection.offer(queues.get(q), l);
            }
            final int[] next = new int[subjects.length];
            for (int n = 0; n < 600; n++) {
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, "message " + n + " of 600");
                final int q = List.of(subjects).stream().map(SharedConnectionTest::asJnatsReadsIt).toList()
                    .indexOf(m.getSubject());
                assertTrue(q >= 0, "a known subject: " + m.getSubject());
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected.get(q).get(next[q]), m.getData(),
                    "event " + next[q] + " of " + m.getSubject());
                next[q]++;
            }
            for (int q = 0; q < subjects.length; q++) {
                assertEquals(expected.get(q).size(), next[q], subjects[q]);
                final EventQueue queue = queues.get(q);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (queue.sent() < expected.get(q).size() && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(expected.get(q).size(), queue.sent(), "confirmed on " + subjects[q]);
            }
            connection.close(Duration.ofSeconds(5));
            queues.forEach(EventQueue::close);
        }
    }

    /**
     * A batch's array is written again once NATS confirmed its events (so a steady stream allocates none): in waves
     * of lines, each confirmed before the next, later waves reuse the first wave's arrays — and every event of every
     * wave still arrives with exactly its bytes, in order (an array written again while jnats' writer had not sent
     * it yet, or while its events could still be needed, would show here).
     */
    @Test
    void batchArraysAreReusedOnceConfirmedAndEveryEventArrivesIntact() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             Connection subscriber = Nats.connect(nats.url())) {
            final Subscription sub = subscribed(subscriber, "waves");
            final SharedConnection connection = new SharedConnection(settings(nats), new BufferBudget(1 << 26), 0);
            connection.connect(NatsConnections.options(settings(nats)).writerThreadFactory(connection.writerThreads()));
            final EventQueue queue = queue("waves", resume -> { });
            final java.util.Random random = new java.util.Random(11);
            final int waves = 6;
            final int perWave = 1500; // ~700 KB of events: 11 batches of 64 KiB or more (when the publisher catches up)
            int sent = 0;
            long[] afterFirstWave = null;
            try (JsonEventEncoder encoder = new JsonEventEncoder(
                JsonEventEncoder.renderPrefix(Map.of("container_name", "web")), PooledByteBufAllocator.DEFAULT)) {
                for (int w = 0; w < waves; w++) {
                    final List<byte[]> expected = new java.util.ArrayList<>();
                    for (int i = 0; i < perWave; i++) {
                        final char fill = (char) ('a' + random.nextInt(26));
                        final LogLine l = line(w + "/" + i + " " + String.valueOf(fill).repeat(100 + random.nextInt(400)),
                            sent + i, sent + i + 1);
                        expected.add(encoder.encode(l));
                        connection.offer(queue, l);
                    }
                    for (int n = 0; n < perWave; n++) {
                        final Message m = sub.nextMessage(Duration.ofSeconds(10));
                        assertNotNull(m, "wave " + w + ", message " + n);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.get(n), m.getData(),
                            "wave " + w + ", event " + n);
                    }
                    sent += perWave;
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (queue.sent() < sent && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    assertEquals(sent, queue.sent(), "wave " + w + " confirmed");
                    if (0 == w) {
                        afterFirstWave = connection.batchArrays();
                    }
                }
            }
            final long[] arrays = connection.batchArrays();
            final long laterBatches = arrays[0] - afterFirstWave[0];
            final long laterArrays = arrays[1] - afterFirstWave[1];
            assertTrue(laterBatches >= (waves - 1) * 10L, "batches handed over after the first wave: " + laterBatches);
            // how many a wave takes depends on how often the publisher catches up with this thread (10-160 seen);
            // without reuse every batch would need a new array
            assertTrue(laterArrays < laterBatches, "after the first wave, arrays made (" + laterArrays + ") for "
                + laterBatches + " batches: the first wave's are written again");

            // idle for more than a second: the spare arrays are let go, and the next batch needs a new one
            Thread.sleep(2500); // the spares go after ten idle parks of 100 ms
            try (JsonEventEncoder encoder = new JsonEventEncoder(
                JsonEventEncoder.renderPrefix(Map.of("container_name", "web")), PooledByteBufAllocator.DEFAULT)) {
                final LogLine l = line("after a pause", sent, sent + 1);
                final byte[] expected = encoder.encode(l);
                connection.offer(queue, l);
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected, m.getData());
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (queue.sent() < sent + 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(sent + 1, queue.sent());
            assertTrue(connection.batchArrays()[1] > arrays[1], "a new array after the pause: the spares were let go");
            connection.close(Duration.ofSeconds(5));
            queue.close();
        }
    }

    /**
     * An event over the server's {@code max_payload} cannot ever be sent: it is dropped and counted, and the
     * events around it go out on a connection that stays up.
     */
    @Test
    void anEventOverTheServersMaxPayloadIsDroppedAndCountedAndTheOthersArrive() throws Exception {
        final Path conf = dir.resolve("small.conf");
        java.nio.file.Files.writeString(conf, "max_payload: 2048\n");
        try (NatsServer nats = NatsServer.start(dir, "-c", conf.toString());
             Connection subscriber = Nats.connect(nats.url());
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 20), 0)) {
            final Subscription sub = subscribed(subscriber, "small");
            final SharedConnection connection = connections.acquire(settings(nats));
            final EventQueue queue = queue("small", resume -> { });
            connection.offer(queue, line("before", 1, 1));
            connection.offer(queue, line("x".repeat(3000), 2, 2));
            connection.offer(queue, line("after", 3, 3));
            for (final String text : new String[] {"before", "after"}) {
                final Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, text + " delivered");
                assertTrue(new String(m.getData(), StandardCharsets.UTF_8).contains("\"" + text + "\""),
                    new String(m.getData(), StandardCharsets.UTF_8));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (queue.sent() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(2, queue.sent());
            assertEquals(1, queue.dropped());
            assertEquals(3, queue.confirmedResume());
            connections.release(connection);
            queue.close();
        }
    }

    /** The publishing threads yield to the containers: their nice value is the one configured. */
    @Test
    void thePublishingThreadsRunAtTheConfiguredNiceValue() throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsConnections connections = new NatsConnections(new BufferBudget(1 << 20), 13)) {
            final SharedConnection connection = connections.acquire(settings(nats));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Map<String, Integer> nice = niceByThreadName();
            while ((!nice.containsKey("nats-publisher") || !nice.containsKey("nats-writer")
                || nice.get("nats-publisher") != 13) && System.nanoTime() < deadline) {
                Thread.sleep(10);
                nice = niceByThreadName();
            }
            assertEquals(13, nice.get("nats-publisher"), nice.toString());
            assertEquals(13, nice.get("nats-writer"), nice.toString());
            assertEquals(0, nice.get("docker-nats-log"), "jnats's other threads keep their priority: " + nice);
            connections.release(connection);
        }
    }

    /** Each thread of this process by name, with its nice value (field 19 of /proc/self/task/N/stat). */
    private static Map<String, Integer> niceByThreadName() throws java.io.IOException {
        final Map<String, Integer> out = new java.util.HashMap<>();
        try (var tasks = java.nio.file.Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (final Path t : tasks) {
                try {
                    final String stat = java.nio.file.Files.readString(t.resolve("stat"));
                    final String name = java.nio.file.Files.readString(t.resolve("comm")).trim();
                    final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    out.put(name, Integer.parseInt(f[16])); // field 19 of the whole line: nice
                } catch (final java.io.IOException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    /** A subject as jnats' reader gives it: each byte received (UTF-8 here) as a char, sign-extended. */
    private static String asJnatsReadsIt(final String subject) {
        final StringBuilder s = new StringBuilder();
        for (final byte b : subject.getBytes(StandardCharsets.UTF_8)) {
            s.append((char) b);
        }
        return s.toString();
    }

    /** A subscription the server knows of (flushed) before anything is published. */
    private static Subscription subscribed(final Connection subscriber, final String subject) throws Exception {
        final Subscription sub = subscriber.subscribe(subject);
        subscriber.flush(Duration.ofSeconds(5));
        return sub;
    }

    /** The record chunks of every queue here, as the plugin shares one {@link RecordChunks}. */
    private static final RecordChunks CHUNKS = new RecordChunks(PooledByteBufAllocator.DEFAULT, RecordChunks.DEFAULT_SPARES);

    private static ConnectionSettings settings(final NatsServer nats) {
        return new ConnectionSettings(List.of(nats.url()), -1, null, null, null, false, null, null, null, false);
    }

    private static EventQueue queue(final String subject, final java.util.function.LongConsumer checkpoint) {
        return new EventQueue(subject, "web", 0, 0, JsonEventEncoder.renderPrefix(Map.of("container_name", "web")),
            CHUNKS, checkpoint);
    }

    /** A stdout line of that text, time and resume offset. */
    private static LogLine line(final String text, final long time, final long resume) {
        final ByteBuf t = Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII));
        final ByteBuf source = Unpooled.wrappedBuffer("stdout".getBytes(StandardCharsets.US_ASCII));
        final LogLine line = new LogLine().set(t, 0, t.readableBytes(), source, 0, 6, time);
        line.resumeOffset(resume);
        return line;
    }
}
