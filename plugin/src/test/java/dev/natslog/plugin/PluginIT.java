package dev.natslog.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.natslog.core.testing.Fifo;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged plugin, driven as dockerd drives it, against real nats-servers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PluginIT {
    @TempDir
    Path dir;

    private NatsServer nats;
    private PluginProcess plugin;
    private DockerdClient dockerd;
    private final List<FileChannel> fifos = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        nats = NatsServer.start(dir);
        plugin = new PluginProcess(dir, Map.of()).start();
        dockerd = new DockerdClient(plugin.socket);
    }

    @AfterEach
    void tearDown() throws Exception {
        // every step runs, whatever failed before it (a failed setUp leaves fields null)
        try {
            for (final FileChannel f : fifos) {
                f.close();
            }
        } finally {
            try {
                if (null != plugin) {
                    plugin.close();
                }
            } finally {
                if (null != nats) {
                    nats.close();
                }
            }
        }
    }

    private String fifo(final String name) throws Exception {
        final Path p = Fifo.make(dir.resolve(name));
        fifos.add(Fifo.openWriter(p));
        return p.toString();
    }

    private FileChannel writer(final int i) {
        return fifos.get(i);
    }

    static void write(final FileChannel w, final byte[] b) throws IOException {
        final ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            w.write(buf);
        }
    }

    static String id(final int n) {
        return String.format("%064x", n);
    }

    private String config(final String... kv) {
        final StringBuilder s = new StringBuilder("{\"nats-servers\":\"" + nats.url() + "\"");
        for (int i = 0; i < kv.length; i += 2) {
            s.append(",\"").append(kv[i]).append("\":\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return s.append('}').toString();
    }

    static List<JsonNode> receive(final Subscription sub, final int n, final Duration timeout) throws Exception {
        final List<JsonNode> out = new ArrayList<>();
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            final Message m = sub.nextMessage(Duration.ofMillis(200));
            if (null != m) {
                out.add(DockerdClient.JSON.readTree(m.getData()));
            }
        }
        return out;
    }

    private Subscription subscribe(final Connection c, final String subject) throws Exception {
        final Subscription s = c.subscribe(subject);
        c.flush(Duration.ofSeconds(2));
        return s;
    }

    @Test
    void answersDockerdsHandshakeWithJson() throws Exception {
        final DockerdClient.Reply activate = dockerd.post("Plugin.Activate", "");
        assertEquals(200, activate.status());
        assertEquals("application/json", activate.contentType());
        assertEquals("LogDriver", activate.body().get("Implements").get(0).asText());
        final DockerdClient.Reply caps = dockerd.post("LogDriver.Capabilities", "");
        assertFalse(caps.body().get("Cap").get("ReadLogs").asBoolean());
        final DockerdClient.Reply stopUnknown = dockerd.post("LogDriver.StopLogging", DockerdClient.stopBody("/never/seen"));
        assertEquals(200, stopUnknown.status());
        assertEquals("", stopUnknown.err());
        final DockerdClient.Reply other = dockerd.post("LogDriver.Nope", "{}");
        assertEquals(404, other.status());
        assertTrue(other.err().contains("unknown endpoint"), other.err());
    }

    @Test
    void severalContainersAreDeliveredExactlyInOrderWithLabelsAndEnv() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "app.>");
            final int containers = 3;
            final int lines = 3000;
            final List<String> files = new ArrayList<>();
            for (int i = 0; i < containers; i++) {
                final String f = fifo("c" + i);
                files.add(f);
                final DockerdClient.Reply r = dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(i), "web" + i,
                    config("nats-subject", "app.c" + i, "labels", "team", "env", "REGION"),
                    "{\"team\":\"payments\",\"other\":\"x\"}", "[\"REGION=eu\",\"SECRET=s\"]"));
                assertEquals("", r.err());
            }
            for (int n = 0; n < lines; n++) {
                for (int i = 0; i < containers; i++) {
                    write(writer(i), Frames.frame(Entry.of(n % 2 == 0 ? "stdout" : "stderr", 1_700_000_000_000_000_000L + n,
                        "c" + i + " line " + n)));
                }
            }
            for (int i = 0; i < containers; i++) {
                assertEquals("", dockerd.post("LogDriver.StopLogging", DockerdClient.stopBody(files.get(i))).err());
                writer(i).close(); // dockerd closes its end after StopLogging's reply
            }
            final List<JsonNode> got = receive(sub, containers * lines, Duration.ofSeconds(60));
            assertEquals(containers * lines, got.size());
            final int[] next = new int[containers];
            for (final JsonNode e : got) {
                final int i = Integer.parseInt(e.get("container_name").asText().substring(3));
                assertEquals("c" + i + " line " + next[i], e.get("text").asText());
                assertEquals(next[i] % 2 == 0 ? "stdout" : "stderr", e.get("source").asText());
                assertEquals("payments", e.get("team").asText());
                assertEquals("eu", e.get("REGION").asText());
                assertEquals(null, e.get("SECRET"));
                assertEquals(id(i), e.get("container_id").asText());
                next[i]++;
            }
            waitForLog("stream ended: container web2");
        }
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "nats-max-reconnect|forever|nats-max-reconnect='forever' is invalid",
        "nats-subject|a b|nats-subject='a b' is invalid",
        "nats-servers|http://x:1|scheme 'http'",
        "nats-tls-ca-cert|/no/such/ca.pem|nats-tls-ca-cert='/no/such/ca.pem' is invalid",
        "nats-serverz|x|unknown log-opt 'nats-serverz'",
        "tag|{{.Nope}}|tag='{{.Nope}}' is invalid",
    })
    void badOptionsAreRefusedNamingTheOption(final String key, final String value, final String message) throws Exception {
        final String f = fifo("bad");
        final DockerdClient.Reply r = dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(1), "bad",
            config(key, value), "{}", "null"));
        assertEquals(200, r.status());
        assertTrue(r.err().startsWith("nats: ") && r.err().contains(message), r.err());
    }

    @Test
    void repeatedStartLoggingChangesNothingAndTheDefaultSubjectIsTheTag() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, id(7).substring(0, 12));
            final String f = fifo("rep");
            final String body = DockerdClient.startBody(f, id(7), "rep", config(), "null", "null");
            assertEquals("", dockerd.post("LogDriver.StartLogging", body).err());
            assertEquals("", dockerd.post("LogDriver.StartLogging", body).err());
            write(writer(0), Frames.frame(Entry.of("stdout", 1, "once")));
            assertEquals(1, receive(sub, 1, Duration.ofSeconds(10)).size());
            assertEquals(null, sub.nextMessage(Duration.ofMillis(500)));
        }
    }

    /** Users of log drivers ask for counters: sent, dropped and waiting, per container and in all. */
    @Test
    void statsCountWhatWasSentPerContainerAndInAll() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "stats");
            final String f = fifo("stats");
            assertEquals("", dockerd.post("LogDriver.StartLogging",
                DockerdClient.startBody(f, id(12), "counted", config("nats-subject", "stats"), "{}", "[]")).err());
            for (int i = 0; i < 250; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            assertEquals(250, receive(sub, 250, Duration.ofSeconds(10)).size());
            JsonNode stats = dockerd.post("Stats", "").body();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (stats.get("sent").asLong() < 250 && System.nanoTime() < deadline) { // confirmed by a flush
                Thread.sleep(20);
                stats = dockerd.post("Stats", "").body();
            }
            assertEquals(250, stats.get("sent").asLong(), stats.toString());
            assertEquals(0, stats.get("dropped").asLong());
            assertEquals(1, stats.get("connections").asInt());
            final JsonNode stream = stats.get("streams").get(0);
            assertEquals(id(12), stream.get("container_id").asText());
            assertEquals("counted", stream.get("container_name").asText());
            assertEquals("stats", stream.get("subject").asText());
            assertEquals(250, stream.get("sent").asLong());
            assertEquals(0, stream.get("waiting").asLong());
            assertTrue(stream.get("sent_bytes").asLong() > 250 * 100, stream.toString());

            assertEquals("", dockerd.post("LogDriver.StopLogging", DockerdClient.stopBody(f)).err());
            writer(0).close();
            final long ended = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!stats.get("streams").isEmpty() && System.nanoTime() < ended) {
                Thread.sleep(20);
                stats = dockerd.get("Stats").body();
            }
            assertTrue(stats.get("streams").isEmpty(), "the ended stream is gone: " + stats);
            assertEquals(250, stats.get("sent").asLong(), "its lines still count in all");
        }
    }

    @Test
    void malformedFramesDoNotKillThePlugin() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "mal");
            final String f = fifo("mal");
            assertEquals("", dockerd.post("LogDriver.StartLogging",
                DockerdClient.startBody(f, id(2), "mal", config("nats-subject", "mal"), "{}", "[]")).err());
            write(writer(0), new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 9, 9, 9, 9});
            write(writer(0), Frames.frame(Entry.of("stdout", 5, "still delivered")));
            final List<JsonNode> got = receive(sub, 1, Duration.ofSeconds(10));
            assertEquals("still delivered", got.get(0).get("text").asText());
            assertEquals("", dockerd.post("Plugin.Activate", "").err());
        }
    }

    @Test
    void aKilledPluginIsRestartedAndPicksUpItsStreamsWithoutLoss() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "crash");
            final String f = fifo("crash");
            assertEquals("", dockerd.post("LogDriver.StartLogging",
                DockerdClient.startBody(f, id(3), "crash", config("nats-subject", "crash"), "{}", "[]")).err());
            for (int i = 0; i < 100; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            assertEquals(100, receive(sub, 100, Duration.ofSeconds(10)).size());
            // the publisher records the confirmed position right after the flush that confirms them (at most 100 ms
            // after the last was published): these 100 are not re-sent
            Thread.sleep(1000);
            plugin.kill9();
            // dockerd keeps writing into the FIFO while the plugin is down (the pipe holds it)
            for (int i = 100; i < 200; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            plugin.start(); // dockerd restarts it, and sends no new StartLogging
            final List<JsonNode> got = receive(sub, 100, Duration.ofSeconds(20));
            assertEquals(100, got.size());
            for (int i = 0; i < 100; i++) {
                assertEquals("line " + (100 + i), got.get(i).get("text").asText());
            }
            waitForLog("1 stream(s) recovered"); // logged once the recovered streams run: their lines may come first
        }
    }

    @Test
    void killDashNineWhileAContainerLogsLosesNoLine() throws Exception {
        final int total = 40_000;
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "k9");
            final String f = fifo("k9");
            assertEquals("", dockerd.post("LogDriver.StartLogging",
                DockerdClient.startBody(f, id(11), "k9", config("nats-subject", "k9"), "{}", "[]")).err());
            final java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
            final Thread writerThread = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < total; i++) {
                        write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
                    }
                } catch (final Exception e) {
                    failure.set(e);
                }
            });
            final java.util.Set<String> seen = new java.util.HashSet<>();
            int messages = 0;
            // three kills mid-stream: each lands with lines in its memory, in flight to NATS, and in the pipe
            for (final int killAt : new int[] {4_000, 12_000, 20_000}) {
                while (seen.size() < killAt) {
                    final Message m = sub.nextMessage(Duration.ofSeconds(20));
                    assertTrue(null != m, "lines flow before kill at " + killAt + ":\n" + plugin.logText());
                    seen.add(DockerdClient.JSON.readTree(m.getData()).get("text").asText());
                    messages++;
                }
                plugin.kill9();
                plugin.start(); // dockerd restarts it; no new StartLogging
            }
            writerThread.join(60_000);
            assertEquals(null, failure.get());
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < total && System.nanoTime() < deadline) {
                final Message m = sub.nextMessage(Duration.ofMillis(500));
                if (null != m) {
                    seen.add(DockerdClient.JSON.readTree(m.getData()).get("text").asText());
                    messages++;
                }
            }
            for (int i = 0; i < total; i++) {
                assertTrue(seen.contains("line " + i), "line " + i + " was lost (" + seen.size() + " of " + total
                    + " arrived):\n" + plugin.logText());
            }
            // a kill can repeat only what was in flight (published, flush not answered): the resume offset is
            // recorded after every flush
            assertTrue(messages - total <= 3 * dev.natslog.core.nats.SharedConnection.MAX_INFLIGHT,
                "at most what was in flight is sent twice: " + (messages - total) + " duplicates after 3 kills");
        }
    }

    @Test
    void sigtermFlushesAndExitsQuickly() throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            final Subscription sub = subscribe(c, "term");
            final String f = fifo("term");
            assertEquals("", dockerd.post("LogDriver.StartLogging",
                DockerdClient.startBody(f, id(4), "term", config("nats-subject", "term"), "{}", "[]")).err());
            for (int i = 0; i < 2000; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            final long t = System.nanoTime();
            plugin.terminate();
            assertTrue(System.nanoTime() - t < TimeUnit.SECONDS.toNanos(10), "well inside dockerd's 10 s");
            assertTrue(plugin.logText().contains("NATS log driver stopped"), plugin.logText());
            // whatever it had read was flushed; whatever was still in the pipe is read by the next start
            plugin.start();
            final List<JsonNode> got = receive(sub, 2000, Duration.ofSeconds(20));
            assertEquals(2000, got.size());
            for (int i = 0; i < 2000; i++) {
                assertEquals("line " + i, got.get(i).get("text").asText());
            }
        }
    }

    @Test
    void natsRestartedMidStreamLosesNothing() throws Exception {
        // a JetStream stream records every event the server accepts, whenever a subscriber would have joined: a
        // plain subscriber that reconnects after the plugin did would miss events that were not lost
        try (NatsServer js = NatsServer.start(dir, "-js", "-sd", dir.resolve("jetstream").toString())) {
            try (Connection c = Nats.connect(js.url())) {
                c.jetStreamManagement().addStream(io.nats.client.api.StreamConfiguration.builder().name("RESTART")
                    .subjects("restart").storageType(io.nats.client.api.StorageType.File).build());
            }
            final String f = fifo("restart");
            assertEquals("", dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(5), "restart",
                "{\"nats-servers\":\"" + js.url() + "\",\"nats-subject\":\"restart\"}", "{}", "[]")).err());
            for (int i = 0; i < 500; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            assertTrue(recorded(js, "line 499", Duration.ofSeconds(10)).contains("line 0"), "the first 500 lines");
            js.stop(true);
            for (int i = 500; i < 1000; i++) {
                write(writer(0), Frames.frame(Entry.of("stdout", i, "line " + i)));
            }
            js.start();
            // at least once: lines in flight when the server died may be recorded twice; none may be missing
            final java.util.Set<String> texts = recorded(js, "line 999", Duration.ofSeconds(30));
            for (int i = 0; i < 1000; i++) {
                assertTrue(texts.contains("line " + i), "line " + i + " recorded (500-999 written while NATS was down)");
            }
        }
    }

    /**
     * The texts of the events the RESTART stream recorded, read from its start until {@code last} is among them and
     * nothing more comes for a while: events sent again after a reconnect may be recorded after later ones.
     */
    private static java.util.Set<String> recorded(final NatsServer js, final String last, final Duration timeout)
        throws Exception {
        final java.util.Set<String> texts = new java.util.HashSet<>();
        try (Connection c = Nats.connect(js.url())) {
            final io.nats.client.JetStreamSubscription sub = c.jetStream().subscribe("restart",
                io.nats.client.PushSubscribeOptions.builder().ordered(true).build());
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                final Message m = sub.nextMessage(Duration.ofMillis(500));
                if (null != m) {
                    texts.add(DockerdClient.JSON.readTree(m.getData()).get("text").asText());
                } else if (texts.contains(last)) {
                    break; // the last line seen, and quiet since
                }
            }
        }
        return texts;
    }

    @Test
    void userPasswordAndTokenAuthAndAWrongPasswordIsRefused() throws Exception {
        try (NatsServer secured = NatsServer.start(dir, "--user", "logger", "--pass", "s3cret-pass");
             NatsServer tokened = NatsServer.start(dir, "--auth", "t0ken-value")) {
            try (Connection c = Nats.connect(new io.nats.client.Options.Builder().server(secured.url())
                .userInfo("logger", "s3cret-pass").build())) {
                final Subscription sub = subscribe(c, "auth");
                final String f = fifo("auth");
                assertEquals("", dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(6), "auth",
                    "{\"nats-servers\":\"" + secured.url() + "\",\"nats-user\":\"logger\",\"nats-pass\":\"s3cret-pass\","
                        + "\"nats-subject\":\"auth\"}", "{}", "[]")).err());
                write(writer(0), Frames.frame(Entry.of("stdout", 1, "authenticated")));
                assertEquals(1, receive(sub, 1, Duration.ofSeconds(10)).size());
            }
            try (Connection c = Nats.connect(new io.nats.client.Options.Builder().server(tokened.url())
                .token("t0ken-value".toCharArray()).build())) {
                final Subscription sub = subscribe(c, "tok");
                final String f = fifo("tok");
                assertEquals("", dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(8), "tok",
                    "{\"nats-servers\":\"" + tokened.url() + "\",\"nats-token\":\"t0ken-value\",\"nats-subject\":\"tok\"}",
                    "{}", "[]")).err());
                write(writer(1), Frames.frame(Entry.of("stdout", 1, "by token")));
                assertEquals(1, receive(sub, 1, Duration.ofSeconds(10)).size());
            }
            final String f = fifo("wrong");
            final DockerdClient.Reply r = dockerd.post("LogDriver.StartLogging", DockerdClient.startBody(f, id(9), "wrong",
                "{\"nats-servers\":\"" + secured.url() + "\",\"nats-user\":\"logger\",\"nats-pass\":\"WRONG-pass\"}", "{}", "[]"));
            assertTrue(r.err().contains("authorization failed"), r.err());
            assertFalse(r.err().contains("WRONG-pass"), "the password is never echoed: " + r.err());
            assertFalse(plugin.logText().contains("WRONG-pass") || plugin.logText().contains("s3cret-pass")
                || plugin.logText().contains("t0ken-value"), "no secret in the plugin's log");
        }
    }

    @Test
    void natsDownPastTheBoundDropsCountsAndLogsWithoutBlockingTheWriter() throws Exception {
        plugin.close();
        plugin = new PluginProcess(dir.resolve("small"), Map.of("NATS_BUFFER_SIZE", "64k"));
        Files.createDirectories(dir.resolve("small"));
        plugin.start();
        dockerd = new DockerdClient(plugin.socket);
        nats.stop(true);
        final String f = fifo("flood");
        assertEquals("", dockerd.post("LogDriver.StartLogging",
            DockerdClient.startBody(f, id(10), "flood", config(), "{}", "[]")).err());
        final byte[] frame = Frames.frame(Entry.of("stdout", 1, "y".repeat(500)));
        for (int i = 0; i < 10_000; i++) { // ~5 MB through a 64 KiB pipe
            write(writer(0), frame);
        }
        waitForLog("container flood: dropped");
    }

    private void waitForLog(final String text) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!plugin.logText().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the plugin never logged '" + text + "':\n" + plugin.logText());
            }
            Thread.sleep(100);
        }
    }
}
