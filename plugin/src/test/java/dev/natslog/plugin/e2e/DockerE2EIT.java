package dev.natslog.plugin.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.natslog.core.testing.NatsServer;
import dev.natslog.core.testing.TestCertificates;
import dev.natslog.core.testing.TestCertificates.Issued;
import dev.natslog.core.testing.TestCertificates.KeyForm;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The plugin as users meet it: created offline with scripts/create-plugin.sh, enabled on a private dockerd,
 * used by real containers (busybox from Debian's busybox-static), with real nats-servers on loopback.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerE2EIT {
    static final String PLUGIN = "nats-e2e:latest";
    static final ObjectMapper JSON = new ObjectMapper();

    static Path dir;
    static DockerEngine engine;
    static NatsServer defaultServer;
    static final List<NatsServer> cluster = new ArrayList<>();
    static final List<Integer> clusterMonitorPorts = new ArrayList<>();
    static NatsServer tlsServer;
    static NatsServer userServer;
    static NatsServer tokenServer;
    static Path certs;
    static String pluginId;

    @BeforeAll
    static void startEngineNatsAndPlugin() throws Exception {
        if (Boolean.getBoolean("e2e.skip")) {
            org.junit.jupiter.api.Assumptions.abort("e2e.skip=true: the Docker end-to-end suite was left out on purpose");
        }
        requireTool("dockerd");
        requireTool("busybox");
        if (!"root".equals(System.getProperty("user.name"))) {
            fail("the end-to-end suite runs a private dockerd and needs root (or run with -De2e.skip=true)");
        }
        dir = Files.createTempDirectory(Path.of("/tmp"), "nle2e-");
        certs = Files.createDirectories(dir.resolve("certs"));
        engine = DockerEngine.start(dir.resolve("engine"));
        importBusybox();
        makeCertificates();

        defaultServer = NatsServer.startOn(dir, 4222);
        final int[] client = {NatsServer.freePort(), NatsServer.freePort(), NatsServer.freePort()};
        final int[] routes = {NatsServer.freePort(), NatsServer.freePort(), NatsServer.freePort()};
        for (int i = 0; i < 3; i++) {
            final int monitor = NatsServer.freePort();
            clusterMonitorPorts.add(monitor);
            final StringBuilder others = new StringBuilder();
            for (int j = 0; j < 3; j++) {
                if (j != i) {
                    others.append(others.isEmpty() ? "" : ",").append("nats://127.0.0.1:").append(routes[j]);
                }
            }
            cluster.add(NatsServer.startOn(dir, client[i], "-m", Integer.toString(monitor), "--cluster_name", "e2e",
                "--cluster", "nats://127.0.0.1:" + routes[i], "--routes", others.toString()));
        }
        tlsServer = NatsServer.start(dir, "--tlsverify", "--tlscert", certs.resolve("server.pem").toString(),
            "--tlskey", certs.resolve("server-key.pem").toString(), "--tlscacert", certs.resolve("ca.pem").toString());
        userServer = NatsServer.start(dir, "--user", "logger", "--pass", "e2e-pass");
        tokenServer = NatsServer.start(dir, "--auth", "e2e-token");

        final Path root = Path.of(System.getProperty("project.root"));
        final DockerEngine.Result created = engine.run(List.of("scripts/create-plugin.sh", PLUGIN), root);
        assertEquals(0, created.exit(), "create-plugin.sh: " + created.all());
        assertTrue(created.out().contains("root filesystem is"), created.out());
        final int mb = Integer.parseInt(created.out().replaceAll("(?s).*root filesystem is (\\d+) MB.*", "$1"));
        assertTrue(mb < 80, "plugin rootfs " + mb + " MB");
        assertEquals(0, docker(30, "plugin", "set", PLUGIN, "certs.source=" + certs).exit());
        final DockerEngine.Result enabled = docker(60, "plugin", "enable", PLUGIN);
        assertEquals(0, enabled.exit(), enabled.all() + engine.log());
        pluginId = docker(10, "plugin", "inspect", "--format", "{{.Id}}", PLUGIN).out().trim();
        waitForCluster();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (null != engine) {
                final String ids = engine.docker(30, "ps", "-aq").out().trim();
                if (!ids.isEmpty()) {
                    final List<String> rm = new ArrayList<>(List.of("rm", "-f"));
                    rm.addAll(List.of(ids.split("\\s+")));
                    engine.docker(60, rm.toArray(String[]::new));
                }
                engine.docker(60, "plugin", "disable", "-f", PLUGIN);
                engine.docker(60, "plugin", "rm", "-f", PLUGIN);
            }
        } finally {
            if (null != engine) {
                engine.close();
            }
            for (final NatsServer s : cluster) {
                s.close();
            }
            for (final NatsServer s : new NatsServer[] {defaultServer, tlsServer, userServer, tokenServer}) {
                if (null != s) {
                    s.close();
                }
            }
            if (null != dir) {
                DockerEngine.unmountUnder(dir);
                new ProcessBuilder("rm", "-rf", dir.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    static void requireTool(final String tool) throws Exception {
        final Process p = new ProcessBuilder("sh", "-c", "command -v " + tool).start();
        if (0 != p.waitFor()) {
            fail(tool + " is not installed: .ci/run installs Debian's docker.io and busybox-static (or run with -De2e.skip=true)");
        }
    }

    static DockerEngine.Result docker(final int seconds, final String... args) throws Exception {
        return engine.docker(seconds, args);
    }

    static void importBusybox() throws Exception {
        final Path fs = Files.createDirectories(dir.resolve("busybox/bin"));
        final Path busybox = Path.of(new String(new ProcessBuilder("sh", "-c", "command -v busybox").start()
            .getInputStream().readAllBytes()).trim()).toRealPath();
        Files.copy(busybox, fs.resolve("busybox"));
        final String applets = new String(new ProcessBuilder(busybox.toString(), "--list").start().getInputStream().readAllBytes());
        for (final String a : applets.split("\\s+")) {
            if (!a.isBlank() && !a.equals("busybox")) {
                Files.createSymbolicLink(fs.resolve(a), Path.of("busybox"));
            }
        }
        final DockerEngine.Result r = engine.run(List.of("sh", "-c", "tar -C " + dir.resolve("busybox")
            + " -c . | timeout 60 docker import - bb:latest"), null);
        assertEquals(0, r.exit(), r.all());
    }

    static void makeCertificates() throws Exception {
        final Issued ca = TestCertificates.ca("e2e-ca");
        ca.writeCert(certs.resolve("ca.pem"));
        final Issued server = TestCertificates.issue(ca, "nats", TestCertificates.rsa(), "localhost", "127.0.0.1");
        server.writeCert(certs.resolve("server.pem"));
        server.writeKey(certs.resolve("server-key.pem"), KeyForm.PKCS8);
        final Issued client = TestCertificates.issue(ca, "docker", TestCertificates.ec());
        client.writeCert(certs.resolve("client.pem"));
        client.writeKey(certs.resolve("client-key.pem"), KeyForm.TRADITIONAL);
        // the plugin reads them as root from its mount; the files need no other permission
    }

    static void waitForCluster() throws Exception {
        for (final int port : clusterMonitorPorts) {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!monitor(port, "/routez").contains("\"num_routes\": 2")) {
                if (System.nanoTime() > deadline) {
                    fail("the NATS cluster did not form: " + monitor(port, "/routez"));
                }
                Thread.sleep(100);
            }
        }
    }

    static String monitor(final int port, final String path) {
        try (var client = java.net.http.HttpClient.newHttpClient()) {
            return client.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        } catch (final Exception e) {
            return "";
        }
    }

    static String clusterServers() {
        return String.join(",", cluster.stream().map(NatsServer::url).toList());
    }

    /** Runs a container to its end with the plugin as log driver; returns docker's result. */
    static DockerEngine.Result run(final int seconds, final List<String> dockerArgs, final String... command) throws Exception {
        final List<String> args = new ArrayList<>(List.of("run", "--rm", "--network", "none", "--log-driver", PLUGIN));
        args.addAll(dockerArgs);
        args.add("bb:latest");
        args.addAll(List.of(command));
        return docker(seconds, args.toArray(String[]::new));
    }

    static Subscription subscribe(final Connection c, final String subject) throws Exception {
        final Subscription s = c.subscribe(subject);
        c.flush(Duration.ofSeconds(5));
        return s;
    }

    static List<JsonNode> receive(final Subscription sub, final int n, final Duration timeout) throws Exception {
        final List<JsonNode> out = new ArrayList<>();
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            final Message m = sub.nextMessage(Duration.ofMillis(250));
            if (null != m) {
                out.add(parseStrict(m.getData()));
            }
        }
        return out;
    }

    static JsonNode parseStrict(final byte[] event) throws IOException {
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(event));
        return JSON.readTree(event);
    }

    static String pluginLog() throws IOException {
        return engine.log();
    }

    /** The last lines the plugin printed (dockerd files them with plugin=ID). */
    static String pluginLines(final int n) throws IOException {
        final List<String> lines = engine.log().lines().filter(l -> l.contains("plugin=")).toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    @Test
    @Order(1)
    void theSeedsExampleSubjectAndAClusterOfThree() throws Exception {
        try (Connection c = Nats.connect(cluster.get(1).url())) {
            final Subscription sub = subscribe(c, "docker.logs");
            final DockerEngine.Result r = run(60, List.of("--log-opt", "nats-subject=docker.logs", "--log-opt",
                "nats-servers=" + clusterServers()), "sh", "-c", "echo to stdout; echo to stderr >&2");
            assertEquals(0, r.exit(), r.all());
            final List<JsonNode> got = receive(sub, 2, Duration.ofSeconds(20));
            assertEquals(2, got.size());
            final Set<String> seen = new HashSet<>();
            for (final JsonNode e : got) {
                seen.add(e.get("source").asText() + ":" + e.get("text").asText());
                assertEquals(64, e.get("container_id").asText().length());
                assertEquals("bb:latest", e.get("image_name").asText());
                assertTrue(e.get("image_id").asText().startsWith("sha256:"));
                assertFalse(e.get("container_name").asText().startsWith("/"));
            }
            assertEquals(Set.of("stdout:to stdout", "stderr:to stderr"), seen);
        }
    }

    @Test
    @Order(2)
    void theTagTemplateAsTheSubject() throws Exception {
        try (Connection c = Nats.connect(defaultServer.url())) {
            final Subscription sub = subscribe(c, "docker.*.bb:latest");
            final DockerEngine.Result r = run(60, List.of("--log-opt", "tag=docker.{{.ID}}.{{.ImageName}}"), "echo", "tagged");
            assertEquals(0, r.exit(), r.all());
            final List<JsonNode> got = receive(sub, 1, Duration.ofSeconds(20));
            assertEquals(1, got.size(), "the default server localhost:4222 and the tag as subject");
            final JsonNode e = got.get(0);
            assertEquals("docker." + e.get("container_id").asText().substring(0, 12) + ".bb:latest", e.get("tag").asText());
        }
    }

    @Test
    @Order(3)
    void mutualTlsWithCaClientCertificateAndKey() throws Exception {
        final Options o = new Options.Builder().server("tls://localhost:" + tlsServer.port())
            .sslContext(dev.natslog.core.nats.TlsContexts.create(dev.natslog.core.config.LogOptions.parse(java.util.Map.of(
                "nats-tls-ca-cert", certs.resolve("ca.pem").toString(), "nats-tls-cert", certs.resolve("client.pem").toString(),
                "nats-tls-key", certs.resolve("client-key.pem").toString())).connection())).build();
        try (Connection c = Nats.connect(o)) {
            final Subscription sub = subscribe(c, "secure");
            final DockerEngine.Result r = run(60, List.of("--log-opt", "nats-servers=tls://localhost:" + tlsServer.port(),
                "--log-opt", "nats-subject=secure", "--log-opt", "nats-tls-ca-cert=/certs/ca.pem",
                "--log-opt", "nats-tls-cert=/certs/client.pem", "--log-opt", "nats-tls-key=/certs/client-key.pem"),
                "echo", "over mutual tls");
            assertEquals(0, r.exit(), r.all());
            assertEquals("over mutual tls", receive(sub, 1, Duration.ofSeconds(20)).get(0).get("text").asText());
        }
    }

    @Test
    @Order(4)
    void labelsEnvUserPasswordAndToken() throws Exception {
        try (Connection u = Nats.connect(new Options.Builder().server(userServer.url()).userInfo("logger", "e2e-pass").build());
             Connection t = Nats.connect(new Options.Builder().server(tokenServer.url()).token("e2e-token".toCharArray()).build())) {
            final Subscription us = subscribe(u, "auth.user");
            final Subscription ts = subscribe(t, "auth.token");
            assertEquals(0, run(60, List.of("--label", "team=payments", "--env", "REGION=eu", "--log-opt", "labels=team",
                "--log-opt", "env=REGION", "--log-opt", "nats-servers=" + userServer.url(), "--log-opt", "nats-user=logger",
                "--log-opt", "nats-pass=e2e-pass", "--log-opt", "nats-subject=auth.user"), "echo", "user").exit());
            final JsonNode e = receive(us, 1, Duration.ofSeconds(20)).get(0);
            assertEquals("payments", e.get("team").asText());
            assertEquals("eu", e.get("REGION").asText());
            assertEquals(0, run(60, List.of("--log-opt", "nats-servers=" + tokenServer.url(), "--log-opt", "nats-token=e2e-token",
                "--log-opt", "nats-subject=auth.token"), "echo", "token").exit());
            assertEquals("token", receive(ts, 1, Duration.ofSeconds(20)).get(0).get("text").asText());
        }
    }

    @Test
    @Order(5)
    void aLongLineManyLinesAndOddBytes() throws Exception {
        try (Connection c = Nats.connect(defaultServer.url())) {
            final Subscription big = subscribe(c, "big");
            assertEquals(0, run(60, List.of("--log-opt", "nats-subject=big"), "sh", "-c",
                "head -c 40000 /dev/zero | tr '\\0' 'x'; echo").exit());
            final List<JsonNode> one = receive(big, 2, Duration.ofSeconds(20));
            assertEquals(1, one.size(), "a 40 000-byte line arrives as one event");
            assertEquals(40_000, one.get(0).get("text").asText().length());

            final Subscription odd = subscribe(c, "odd");
            assertEquals(0, run(60, List.of("--log-opt", "nats-subject=odd"), "sh", "-c",
                "printf 'bad \\377\\376 utf8, ctl \\001\\033 tab\\t quote\" back\\\\ end\\r\\n'").exit());
            final JsonNode e = receive(odd, 1, Duration.ofSeconds(20)).get(0);
            assertEquals("bad \uFFFD\uFFFD utf8, ctl \u0001\u001b tab\t quote\" back\\ end\r", e.get("text").asText());

            final Subscription many = subscribe(c, "many");
            final long started = System.nanoTime();
            assertEquals(0, run(120, List.of("--log-opt", "nats-subject=many"), "seq", "1", "100000").exit());
            final List<JsonNode> lines = receive(many, 100_000, Duration.ofSeconds(60));
            assertEquals(100_000, lines.size(), "100 000 lines arrive complete (" + (System.nanoTime() - started) / 1_000_000 + " ms)");
            for (int i = 0; i < lines.size(); i++) {
                assertEquals(Integer.toString(i + 1), lines.get(i).get("text").asText(), "in order");
            }
        }
    }

    @Test
    @Order(6)
    void dockerLogsStillWorksAndABadOptionFailsTheRun() throws Exception {
        assertEquals(0, docker(60, "run", "--name", "kept", "--network", "none", "--log-driver", PLUGIN, "bb:latest",
            "sh", "-c", "echo kept line; echo second").exit());
        final DockerEngine.Result logs = docker(30, "logs", "kept");
        assertEquals(0, logs.exit(), logs.all());
        assertEquals("kept line\nsecond\n", logs.out());
        assertEquals(0, docker(30, "rm", "kept").exit());

        final DockerEngine.Result bad = run(30, List.of("--log-opt", "nats-max-reconnect=often"), "echo", "never");
        assertEquals(125, bad.exit());
        assertTrue(bad.err().contains("nats-max-reconnect='often' is invalid"), bad.err());
    }

    @Test
    @Order(7)
    void deliveryGoesOnWhenTheClusterNodeInUseIsKilled() throws Exception {
        final List<Connection> subs = new ArrayList<>();
        final Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try {
            for (final NatsServer s : cluster) {
                final Connection c = Nats.connect(new Options.Builder().server(s.url()).maxReconnects(0).build());
                subs.add(c);
                c.createDispatcher(m -> {
                    try {
                        seen.add(parseStrict(m.getData()).get("text").asText());
                    } catch (final IOException e) {
                        seen.add("unparsable");
                    }
                }).subscribe("failover");
                c.flush(Duration.ofSeconds(5));
            }
            assertEquals(0, docker(30, "run", "-d", "--name", "failover", "--network", "none", "--log-driver", PLUGIN,
                "--log-opt", "nats-subject=failover", "--log-opt", "nats-servers=" + clusterServers(), "bb:latest",
                "sh", "-c", "i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo $i; usleep 20000; done").exit());
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (seen.size() < 50 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            int inUse = -1;
            for (int i = 0; i < 3; i++) {
                if (monitor(clusterMonitorPorts.get(i), "/connz").contains("docker-nats-log-driver")) {
                    inUse = i;
                }
            }
            assertTrue(inUse >= 0, "the plugin's connection is on one of the nodes");
            cluster.get(inUse).stop(true);
            assertEquals(0, Integer.parseInt(docker(60, "wait", "failover").out().trim()));
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (seen.size() < 400 && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            for (int i = 1; i <= 400; i++) {
                assertTrue(seen.contains(Integer.toString(i)), "line " + i + " arrived through the other nodes");
            }
            docker(30, "rm", "-f", "failover");
            cluster.get(inUse).start(); // back for later tests
        } finally {
            for (final Connection c : subs) {
                c.close();
            }
        }
    }

    @Test
    @Order(8)
    void thePluginKilledFromTheHostIsRestartedAndLosesNoLine() throws Exception {
        try (Connection c = Nats.connect(defaultServer.url())) {
            final Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            final io.nats.client.Dispatcher d = c.createDispatcher(m -> {
                try {
                    seen.add(parseStrict(m.getData()).get("text").asText());
                } catch (final IOException e) {
                    seen.add("unparsable");
                }
            });
            d.setPendingLimits(-1, -1); // the test's subscriber must not be the one that drops
            d.subscribe("crash");
            c.flush(Duration.ofSeconds(5));
            // 100 000 lines in bursts of 2 500 every 50 ms: a busy container, but one NATS keeps up with, so that
            // any loss is the crash's and not the buffer overflowing (that is dropped and counted by design)
            final int total = 100_000;
            assertEquals(0, docker(30, "run", "-d", "--name", "crash", "--network", "none", "--log-driver", PLUGIN,
                "--log-opt", "nats-subject=crash", "bb:latest", "sh", "-c",
                "i=0; while [ $i -lt 40 ]; do seq $((i*2500+1)) $((i*2500+2500)); usleep 50000; i=$((i+1)); done").exit());
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (seen.size() < 5_000 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            final long pid = engine.pluginPid(pluginId);
            assertTrue(pid > 0, "the plugin's process is found");
            new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start().waitFor();
            assertEquals(0, Integer.parseInt(docker(120, "wait", "crash").out().trim()), "the container finishes");
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < total && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            final long newPid = engine.pluginPid(pluginId);
            assertTrue(newPid > 0 && newPid != pid, "dockerd restarted the plugin");
            int missing = 0;
            final StringBuilder ranges = new StringBuilder();
            int from = -1;
            for (int i = 1; i <= total + 1; i++) {
                final boolean lost = i <= total && !seen.contains(Integer.toString(i));
                if (lost) {
                    missing++;
                    if (from < 0) {
                        from = i;
                    }
                } else if (from >= 0) {
                    ranges.append(' ').append(from).append('-').append(i - 1);
                    from = -1;
                }
            }
            assertFalse(defaultServer.logText().contains("Slow Consumer"), "the test's subscriber kept up");
            assertFalse(pluginLines(40).contains("container crash: dropped"), "no overload drops: " + pluginLines(40));
            assertEquals(0, missing, "lines lost across the kill -9:" + ranges + "; the plugin said:\n" + pluginLines(60)
                + "\nthe subscriber saw slow-consumer drops: " + c.getStatistics().getDroppedCount());
            assertEquals(0, docker(30, "rm", "crash").exit());
        }
    }

    @Test
    @Order(9)
    void natsDownForTheWholeLifeOfAContainerNeitherBlocksNorHides() throws Exception {
        // a small buffer, so that 1 MB of output overflows it
        assertEquals(0, docker(60, "plugin", "disable", "-f", PLUGIN).exit());
        assertEquals(0, docker(30, "plugin", "set", PLUGIN, "NATS_BUFFER_SIZE=256k").exit());
        assertEquals(0, docker(60, "plugin", "enable", PLUGIN).exit());
        try {
            final int nowhere = NatsServer.freePort();
            final long started = System.nanoTime();
            final DockerEngine.Result r = run(60, List.of("--name", "down", "--log-opt", "nats-servers=nats://127.0.0.1:" + nowhere),
                "sh", "-c", "yes 0123456789012345678901234567890123456789012345678901234567890123 | head -n 16000");
            final long ms = (System.nanoTime() - started) / 1_000_000;
            assertEquals(0, r.exit(), r.all());
            assertTrue(ms < 30_000, "the container finished on time: " + ms + " ms");
            assertFalse(docker(10, "ps", "-a", "--format", "{{.Names}}").out().contains("down"), "--rm removed it");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!pluginLog().contains("dropped")) {
                if (System.nanoTime() > deadline) {
                    fail("the plugin's log does not report the drops:\n" + pluginLog());
                }
                Thread.sleep(200);
            }
            // and its counters say so, on the socket dockerd talks to, as README's curl asks them
            // (dockerd keeps plugin sockets in /run/docker/plugins/<id> whatever its --exec-root)
            final Path socketDir = Path.of("/run/docker/plugins", pluginId);
            final DockerEngine.Result stats = engine.run(List.of("timeout", "-k", "5", "10", "curl", "-sS",
                "--unix-socket", "nats.sock", "http://localhost/Stats"), socketDir);
            assertEquals(0, stats.exit(), stats.all());
            final JsonNode counters = new ObjectMapper().readTree(stats.out());
            assertTrue(counters.get("dropped").asLong() > 0, "the drops are counted: " + stats.out());
        } finally {
            docker(60, "plugin", "disable", "-f", PLUGIN);
            docker(30, "plugin", "set", PLUGIN, "NATS_BUFFER_SIZE=32m");
            docker(60, "plugin", "enable", PLUGIN);
        }
    }
}
