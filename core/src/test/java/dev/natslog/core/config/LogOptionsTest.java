package dev.natslog.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogOptionsTest {
    @TempDir
    static Path dir;

    static Path pem(final String name) throws IOException {
        final Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            Files.writeString(p, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        }
        return p;
    }

    static Map<String, String> opts(final String... kv) {
        final Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void defaults() {
        final LogOptions o = LogOptions.parse(Map.of());
        final ConnectionSettings c = o.connection();
        assertEquals(List.of("nats://localhost:4222"), c.servers());
        assertEquals(-1, c.maxReconnect());
        assertNull(c.user());
        assertNull(c.password());
        assertNull(c.token());
        assertFalse(c.tls());
        assertFalse(c.tlsSkipVerify());
        assertNull(o.subject());
        assertEquals("{{.ID}}", o.tag().source());
        assertEquals(List.of(), o.labels());
        assertNull(o.labelsRegex());
        assertEquals(LogOptions.parse(null).connection(), c);
    }

    @Test
    void everyOptionIsRead() throws IOException {
        final LogOptions o = LogOptions.parse(opts(
            "labels", "a,b", "labels-regex", "^com\\.", "env", "X,Y", "env-regex", "_ID$", "tag", "{{.Name}}",
            "nats-servers", "nats://n1:4222, tls://n2:4443,n3:5000,n4", "nats-max-reconnect", "10",
            "nats-subject", "docker.logs", "nats-user", "u", "nats-pass", "p",
            "nats-tls-ca-cert", pem("ca.pem").toString(), "nats-tls-cert", pem("c.pem").toString(),
            "nats-tls-key", pem("k.pem").toString(), "nats-tls-skip-verify", "false"));
        assertEquals(List.of("a", "b"), o.labels());
        assertTrue(o.labelsRegex().matcher("com.x").find());
        assertEquals(List.of("X", "Y"), o.env());
        assertTrue(o.envRegex().matcher("APP_ID").find());
        assertEquals("{{.Name}}", o.tag().source());
        assertEquals("docker.logs", o.subject());
        final ConnectionSettings c = o.connection();
        assertEquals(List.of("nats://n1:4222", "tls://n2:4443", "nats://n3:5000", "nats://n4:4222"), c.servers());
        assertEquals(10, c.maxReconnect());
        assertEquals("u", c.user());
        assertEquals("p", c.password());
        assertTrue(c.tls());
        assertFalse(c.tlsSkipVerify());
        assertEquals(pem("ca.pem"), c.tlsCaCert());
        assertEquals(pem("c.pem"), c.tlsCert());
        assertEquals(pem("k.pem"), c.tlsKey());
    }

    @ParameterizedTest(name = "nats-tls-skip-verify=''{0}'' -> {1}")
    @CsvSource({"'', true", "true, true", "1, true", "T, true", "False, false", "0, false", "f, false"})
    void skipVerifyIsStrictGoBooleanAndBareMeansTrue(final String value, final boolean expected) {
        final ConnectionSettings c = LogOptions.parse(opts("nats-tls-skip-verify", value)).connection();
        assertEquals(expected, c.tlsSkipVerify());
        assertTrue(c.tls(), "any nats-tls-* option turns TLS on");
    }

    @ParameterizedTest(name = "nats-buffer-size=''{0}'' -> {1}")
    @CsvSource({"65536, 65536", "64k, 65536", "512K, 524288", "4m, 4194304", "4MiB, 4194304", "4mb, 4194304",
        "1g, 1073741824", "' 2m ', 2097152"})
    void bufferSizeTakesDockersSizeForms(final String value, final long expected) {
        assertEquals(expected, LogOptions.parse(opts("nats-buffer-size", value)).bufferSize());
    }

    @Test
    void noBufferSizeMeansOnlyThePluginWideBound() {
        assertEquals(0, LogOptions.parse(Map.of()).bufferSize());
    }

    @Test
    void aTlsServerTurnsTlsOnAndVerificationStaysOn() {
        final ConnectionSettings c = LogOptions.parse(opts("nats-servers", "tls://secure:4222")).connection();
        assertTrue(c.tls());
        assertFalse(c.tlsSkipVerify());
    }

    @Test
    void tokenAuth() {
        assertEquals("s3cret", LogOptions.parse(opts("nats-token", "s3cret")).connection().token());
    }

    @Test
    void dockersOwnKeysAndOtherDriversKeysAreAcceptedAndIgnored() {
        final LogOptions o = LogOptions.parse(opts("mode", "non-blocking", "max-buffer-size", "4m", "cache-disabled", "true",
            "cache-max-size", "20m", "cache-max-file", "5", "cache-compress", "false", "loki-url", "http://x", "foo", "bar"));
        assertEquals(List.of("nats://localhost:4222"), o.connection().servers());
    }

    @Test
    void equalSettingsAreEqualSoConnectionsCanBeShared() {
        final Map<String, String> a = opts("nats-servers", "n1:4222", "nats-user", "u", "nats-pass", "p", "tag", "{{.Name}}");
        final Map<String, String> b = opts("nats-servers", "nats://n1", "nats-user", "u", "nats-pass", "p", "labels", "x");
        assertEquals(LogOptions.parse(a).connection(), LogOptions.parse(b).connection());
        assertEquals(LogOptions.parse(a).connection().hashCode(), LogOptions.parse(b).connection().hashCode());
        final Map<String, String> c = opts("nats-servers", "n1:4222", "nats-user", "u", "nats-pass", "other");
        assertFalse(LogOptions.parse(a).connection().equals(LogOptions.parse(c).connection()));
    }

    @Test
    void connectionSettingsNeverPrintSecrets() {
        final String s = LogOptions.parse(opts("nats-user", "alice", "nats-pass", "hunter2")).connection().toString();
        assertFalse(s.contains("hunter2"), s);
        assertTrue(s.contains("alice"), s);
        final String t = LogOptions.parse(opts("nats-token", "tok-123")).connection().toString();
        assertFalse(t.contains("tok-123"), t);
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
            Arguments.of(opts("nats-server", "x:1"), "nats-server", "unknown log-opt 'nats-server'"),
            Arguments.of(opts("nats-max-reconnect", "abc"), "nats-max-reconnect",
                "nats-max-reconnect='abc' is invalid: expected an integer >= -1"),
            Arguments.of(opts("nats-max-reconnect", "-2"), "nats-max-reconnect", "nats-max-reconnect='-2' is invalid"),
            Arguments.of(opts("nats-max-reconnect", ""), "nats-max-reconnect", "nats-max-reconnect='' is invalid"),
            Arguments.of(opts("nats-servers", "http://x:4222"), "nats-servers", "scheme 'http'"),
            Arguments.of(opts("nats-servers", "a:4222,,b:4222"), "nats-servers", "an entry is empty"),
            Arguments.of(opts("nats-servers", "host:99999"), "nats-servers", "nats-servers='host:99999' is invalid"),
            Arguments.of(opts("nats-servers", "host:abc"), "nats-servers", "is not a host:port"),
            Arguments.of(opts("nats-servers", "nats://h:4222/path"), "nats-servers", "is not a host:port"),
            Arguments.of(opts("nats-servers", "nats://h:4222?x=1"), "nats-servers", "is not a host:port"),
            Arguments.of(opts("nats-subject", "a b"), "nats-subject", "nats-subject='a b' is invalid: expected a NATS subject without whitespace"),
            Arguments.of(opts("nats-subject", "logs.*"), "nats-subject", "without wildcards"),
            Arguments.of(opts("nats-subject", "logs.>"), "nats-subject", "without wildcards"),
            Arguments.of(opts("nats-subject", "logs..x"), "nats-subject", "non-empty tokens"),
            Arguments.of(opts("nats-subject", ".logs"), "nats-subject", "non-empty tokens"),
            Arguments.of(opts("nats-subject", "logs."), "nats-subject", "non-empty tokens"),
            Arguments.of(opts("nats-subject", "a\tb"), "nats-subject", "without whitespace"),
            Arguments.of(opts("nats-subject", "a." + "b".repeat(3999)), "nats-subject", "expected a NATS subject of at most 4000 bytes, got 4001"),
            Arguments.of(opts("nats-pass", "p"), "nats-pass", "nats-pass needs nats-user"),
            Arguments.of(opts("nats-user", "u", "nats-token", "t"), "nats-token", "cannot be used together"),
            Arguments.of(opts("nats-token", ""), "nats-token", "nats-token is empty"),
            Arguments.of(opts("nats-tls-ca-cert", "/does/not/exist.pem"), "nats-tls-ca-cert",
                "nats-tls-ca-cert='/does/not/exist.pem' is invalid: expected a readable PEM file"),
            Arguments.of(opts("nats-tls-ca-cert", ""), "nats-tls-ca-cert", "expected the path of a PEM file"),
            Arguments.of(opts("nats-tls-cert", "/nope.pem"), "nats-tls-cert", "nats-tls-cert='/nope.pem'"),
            Arguments.of(opts("nats-tls-skip-verify", "yes"), "nats-tls-skip-verify",
                "nats-tls-skip-verify='yes' is invalid: expected true or false"),
            Arguments.of(opts("labels-regex", "(unclosed"), "labels-regex", "labels-regex='(unclosed' is invalid: expected a regular expression"),
            Arguments.of(opts("env-regex", "*x"), "env-regex", "env-regex='*x' is invalid"),
            Arguments.of(opts("tag", "{{.Nope}}"), "tag", "tag='{{.Nope}}' is invalid: can't evaluate field Nope"),
            Arguments.of(opts("tag", "{{.ID"), "tag", "unclosed action"),
            Arguments.of(opts("nats-buffer-size", "lots"), "nats-buffer-size",
                "nats-buffer-size='lots' is invalid: expected a positive size such as 33554432, 512k, 32m or 1g"),
            Arguments.of(opts("nats-buffer-size", "-1m"), "nats-buffer-size", "nats-buffer-size='-1m' is invalid"),
            Arguments.of(opts("nats-buffer-size", "1.5m"), "nats-buffer-size", "nats-buffer-size='1.5m' is invalid"),
            Arguments.of(opts("nats-buffer-size", "99999999999g"), "nats-buffer-size", "is invalid"),
            Arguments.of(opts("nats-buffer-size", "1k"), "nats-buffer-size", "nats-buffer-size='1k' is invalid: expected at least 64k"),
            Arguments.of(opts("nats-bufer-size", "1m"), "nats-bufer-size", "unknown log-opt 'nats-bufer-size'"));
    }

    @ParameterizedTest(name = "{1}: {2}")
    @MethodSource("badOptions")
    void badOptionsAreRefusedNamingTheOptionAndTheValue(final Map<String, String> opts, final String option,
                                                        final String message) {
        final OptionException e = assertThrows(OptionException.class, () -> LogOptions.parse(opts));
        assertEquals(option, e.option());
        assertTrue(e.getMessage().startsWith("nats: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void certAndKeyGoTogether() throws IOException {
        final OptionException noKey = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-tls-cert", pem("c.pem").toString())));
        assertEquals("nats-tls-key", noKey.option());
        assertTrue(noKey.getMessage().contains("nats-tls-key is missing"), noKey.getMessage());
        final OptionException noCert = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-tls-key", pem("k.pem").toString())));
        assertEquals("nats-tls-cert", noCert.option());
    }

    @Test
    void aDirectoryIsNotAPemFile() {
        final OptionException e = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-tls-ca-cert", dir.toString())));
        assertEquals("nats-tls-ca-cert", e.option());
    }

    @Test
    void secretsAreNeverEchoed() {
        final OptionException pass = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-pass", "hunter2")));
        assertFalse(pass.getMessage().contains("hunter2"), pass.getMessage());
        final OptionException token = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-user", "u", "nats-token", "tok-123")));
        assertFalse(token.getMessage().contains("tok-123"), token.getMessage());
        final OptionException url = assertThrows(OptionException.class,
            () -> LogOptions.parse(opts("nats-servers", "nats://bob:pw-in-url@h:4222")));
        assertEquals("nats-servers", url.option());
        assertFalse(url.getMessage().contains("pw-in-url"), url.getMessage());
        assertTrue(url.getMessage().contains("use nats-user/nats-pass or nats-token"), url.getMessage());
    }

    @Test
    void ipv6ServersAreAccepted() {
        assertEquals(List.of("nats://[::1]:4222"), LogOptions.parse(opts("nats-servers", "[::1]:4222")).connection().servers());
    }

    @Test
    void theRenderedTagMustBeAValidSubjectWhenNoSubjectIsGiven() {
        final LogOptions o = LogOptions.parse(opts("tag", "{{.Name}}"));
        assertEquals("web", o.subjectFor("web"));
        final OptionException e = assertThrows(OptionException.class, () -> o.subjectFor("my web"));
        assertEquals("tag", e.option());
        assertTrue(e.getMessage().contains("tag='{{.Name}}' is invalid"), e.getMessage());
        assertTrue(e.getMessage().contains("(rendered: 'my web')"), e.getMessage());
        assertThrows(OptionException.class, () -> o.subjectFor(""));
        assertThrows(OptionException.class, () -> o.subjectFor("a/b.*"));
    }

    @Test
    void aGivenSubjectWinsOverTheTag() {
        assertEquals("docker.logs", LogOptions.parse(opts("nats-subject", "docker.logs", "tag", "{{.Name}}")).subjectFor("x y"));
    }

    @Test
    void pluginSettingsGiveDefaultsAndLogOptsWin() {
        final Map<String, String> defaults = LogOptions.defaultsFromEnv(Map.of("NATS_SERVERS", "nats://central:4222",
            "NATS_MAX_RECONNECT", "5", "NATS_TOKEN", "plugin-token", "NATS_SUBJECT", "", "LOG_LEVEL", "DEBUG"));
        assertEquals(Map.of("nats-servers", "nats://central:4222", "nats-max-reconnect", "5", "nats-token", "plugin-token"),
            defaults, "empty values mean unset; unrelated variables are ignored");
        final ConnectionSettings fromDefaults = LogOptions.parse(Map.of(), defaults).connection();
        assertEquals(List.of("nats://central:4222"), fromDefaults.servers());
        assertEquals(5, fromDefaults.maxReconnect());
        assertEquals("plugin-token", fromDefaults.token());
        final ConnectionSettings overridden = LogOptions.parse(opts("nats-servers", "other:4222", "nats-user", "u",
            "nats-pass", "p"), defaults).connection();
        assertEquals(List.of("nats://other:4222"), overridden.servers());
        assertEquals("u", overridden.user());
        assertNull(overridden.token(), "per-container credentials replace the default ones");
    }

    @Test
    void aBadPluginSettingIsNamedAsSuch() {
        final OptionException e = assertThrows(OptionException.class,
            () -> LogOptions.parse(Map.of(), LogOptions.defaultsFromEnv(Map.of("NATS_MAX_RECONNECT", "lots"))));
        assertEquals("nats-max-reconnect", e.option());
        assertTrue(e.getMessage().contains("plugin setting NATS_MAX_RECONNECT (default nats-max-reconnect)='lots' is invalid"),
            e.getMessage());
        // a log-opt that fixes it wins
        assertEquals(3, LogOptions.parse(opts("nats-max-reconnect", "3"),
            LogOptions.defaultsFromEnv(Map.of("NATS_MAX_RECONNECT", "lots"))).connection().maxReconnect());
    }
}
