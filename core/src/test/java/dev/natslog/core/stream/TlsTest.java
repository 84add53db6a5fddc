package dev.natslog.core.stream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.natslog.core.nats.TlsContexts;
import dev.natslog.core.config.LogOptions;
import dev.natslog.core.testing.Fifo;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.NatsServer;
import dev.natslog.core.testing.TestCertificates;
import dev.natslog.core.testing.TestCertificates.Issued;
import dev.natslog.core.testing.TestCertificates.KeyForm;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.natslog.core.stream.LogDriverTest.container;
import static dev.natslog.core.stream.LogDriverTest.frame;
import static dev.natslog.core.stream.LogDriverTest.id;
import static dev.natslog.core.stream.LogDriverTest.receive;
import static dev.natslog.core.stream.LogDriverTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS against a real nats-server, with certificates generated here and now. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsTest {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;

    static Issued ca;
    static Path caPem;
    static Path serverCert;
    static Path serverKey;
    static Path otherCaPem;
    static Path wrongHostCert;
    static Path wrongHostKey;

    private final List<AutoCloseable> closers = new ArrayList<>();
    private LogDriver driver;

    @BeforeAll
    static void makeCertificates() throws Exception {
        ca = TestCertificates.ca("test-ca");
        caPem = ca.writeCert(certs.resolve("ca.pem"));
        final Issued server = TestCertificates.issue(ca, "nats", TestCertificates.rsa(), "localhost", "127.0.0.1");
        serverCert = server.writeCert(certs.resolve("server.pem"));
        serverKey = server.writeKey(certs.resolve("server-key.pem"), KeyForm.PKCS8);
        otherCaPem = TestCertificates.ca("other-ca").writeCert(certs.resolve("other-ca.pem"));
        final Issued wrongHost = TestCertificates.issue(ca, "elsewhere", TestCertificates.rsa(), "elsewhere.example");
        wrongHostCert = wrongHost.writeCert(certs.resolve("wrong-host.pem"));
        wrongHostKey = wrongHost.writeKey(certs.resolve("wrong-host-key.pem"), KeyForm.PKCS8);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (null != driver) {
            driver.close();
        }
        for (final AutoCloseable c : closers) {
            c.close();
        }
    }

    private NatsServer tlsServer(final Path cert, final Path key, final boolean verifyClients) throws Exception {
        final List<String> args = new ArrayList<>(List.of("--tls", "--tlscert", cert.toString(), "--tlskey", key.toString()));
        if (verifyClients) {
            args.addAll(List.of("--tlsverify", "--tlscacert", caPem.toString()));
        }
        final NatsServer s = NatsServer.start(dir, args.toArray(String[]::new));
        closers.add(s);
        return s;
    }

    private Connection subscriber(final NatsServer s, final Map<String, String> tlsOpts) throws Exception {
        final Options.Builder b = new Options.Builder().server("tls://localhost:" + s.port())
            .sslContext(TlsContexts.create(LogOptions.parse(tlsOpts).connection()));
        final Connection c = Nats.connect(b.build());
        closers.add(c::close);
        return c;
    }

    private FileChannel fifo(final String name) throws Exception {
        final FileChannel w = Fifo.openWriter(Fifo.make(dir.resolve(name)));
        closers.add(w);
        return w;
    }

    private void deliversOneLine(final NatsServer server, final Map<String, String> opts, final Map<String, String> subOpts)
        throws Exception {
        driver = new LogDriver(DriverConfig.defaults("h", dir.resolve("state")));
        final Connection sub = subscriber(server, subOpts);
        final Subscription s = sub.subscribe("tls");
        sub.flush(Duration.ofSeconds(2));
        final FileChannel w = fifo("f");
        final Map<String, String> config = new HashMap<>(opts);
        config.put("nats-servers", "tls://localhost:" + server.port());
        config.put("nats-subject", "tls");
        driver.start(dir.resolve("f").toString(), container(id(1), "tls", config), "{}".getBytes());
        write(w, frame(1, "over tls"));
        final List<JsonNode> got = receive(s, 1, Duration.ofSeconds(10));
        assertEquals(1, got.size());
        assertEquals("over tls", got.get(0).get("text").asText());
    }

    @Test
    void verifiedWithTheGivenCa() throws Exception {
        deliversOneLine(tlsServer(serverCert, serverKey, false), Map.of("nats-tls-ca-cert", caPem.toString()),
            Map.of("nats-tls-ca-cert", caPem.toString()));
    }

    @Test
    void aServerSignedByAnotherCaIsRefusedAtStart() throws Exception {
        final NatsServer server = tlsServer(serverCert, serverKey, false);
        driver = new LogDriver(DriverConfig.defaults("h", dir.resolve("state")));
        fifo("f");
        final IOException e = assertThrows(IOException.class, () -> driver.start(dir.resolve("f").toString(),
            container(id(2), "x", Map.of("nats-servers", "tls://localhost:" + server.port(),
                "nats-tls-ca-cert", otherCaPem.toString())), "{}".getBytes()));
        assertTrue(e.getMessage().contains("TLS failed"), e.getMessage());
        assertEquals(0, driver.liveStreams());
    }

    @Test
    void aCertificateForAnotherHostIsRefused() throws Exception {
        final NatsServer server = tlsServer(wrongHostCert, wrongHostKey, false);
        driver = new LogDriver(DriverConfig.defaults("h", dir.resolve("state")));
        fifo("f");
        final IOException e = assertThrows(IOException.class, () -> driver.start(dir.resolve("f").toString(),
            container(id(3), "x", Map.of("nats-servers", "tls://localhost:" + server.port(),
                "nats-tls-ca-cert", caPem.toString())), "{}".getBytes()));
        assertTrue(e.getMessage().contains("TLS failed"), e.getMessage());
    }

    @Test
    void skipVerifyAcceptsAnyServer() throws Exception {
        deliversOneLine(tlsServer(wrongHostCert, wrongHostKey, false), Map.of("nats-tls-skip-verify", "true"),
            Map.of("nats-tls-skip-verify", "true"));
    }

    @Test
    void mutualTlsWithRsaAndEcKeysInEveryPemForm() throws Exception {
        final NatsServer server = tlsServer(serverCert, serverKey, true);
        int n = 0;
        for (final boolean rsa : new boolean[] {true, false}) {
            for (final KeyForm form : KeyForm.values()) {
                final Issued client = TestCertificates.issue(ca, "client-" + n, rsa ? TestCertificates.rsa() : TestCertificates.ec());
                final Path cert = client.writeCert(certs.resolve("client-" + n + ".pem"));
                final Path key = client.writeKey(certs.resolve("client-" + n + "-key.pem"), form);
                final Map<String, String> opts = Map.of("nats-tls-ca-cert", caPem.toString(),
                    "nats-tls-cert", cert.toString(), "nats-tls-key", key.toString());
                if (null != driver) {
                    driver.close();
                }
                dir = dir.resolve("k" + n);
                java.nio.file.Files.createDirectories(dir);
                deliversOneLine(server, opts, opts);
                n++;
            }
        }
        assertEquals(4, n);
    }

    @Test
    void withoutAClientCertificateAVerifyingServerRefuses() throws Exception {
        final NatsServer server = tlsServer(serverCert, serverKey, true);
        driver = new LogDriver(DriverConfig.defaults("h", dir.resolve("state")));
        fifo("f");
        final IOException e = assertThrows(IOException.class, () -> driver.start(dir.resolve("f").toString(),
            container(id(4), "x", Map.of("nats-servers", "tls://localhost:" + server.port(),
                "nats-tls-ca-cert", caPem.toString())), "{}".getBytes()));
        assertFalse(e.getMessage().isEmpty());
    }
}
