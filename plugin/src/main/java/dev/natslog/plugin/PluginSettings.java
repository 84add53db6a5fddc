package dev.natslog.plugin;

import dev.natslog.core.config.ByteSize;
import dev.natslog.core.config.LogOptions;
import dev.natslog.core.config.OptionException;
import dev.natslog.core.nats.BufferBudget;
import org.slf4j.LoggerFactory;
import dev.natslog.core.stream.DriverConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The plugin-wide settings, from the process environment (config.json's settable {@code env}):
 * <ul>
 *   <li>{@code STATE_DIR}: where live streams are remembered for crash recovery
 *   (default {@value #DEFAULT_STATE_DIR});</li>
 *   <li>{@code NATS_BUFFER_SIZE}: bound on event bytes waiting for NATS across the plugin, e.g. {@code 32m}
 *   (default 32 MiB);</li>
 *   <li>{@code READER_THREADS}: threads reading FIFOs (default 2);</li>
 *   <li>{@code PUBLISHER_NICE}: nice value of the publishing threads, 0 to 19 (default
 *   {@value DriverConfig#DEFAULT_PUBLISHER_NICE}; {@link DriverConfig#publisherNice()});</li>
 *   <li>{@code DRAIN_ONLY=true}: the benchmark's null plugin ({@link DriverConfig#drainOnly()});</li>
 *   <li>{@code DISCARD_EVENTS=true}: the benchmark's plugin without NATS ({@link DriverConfig#discardEvents()});</li>
 *   <li>defaults of {@code --log-opt}s: {@code NATS_SERVERS}, {@code NATS_SUBJECT}, {@code NATS_MAX_RECONNECT},
 *   {@code NATS_USER}, {@code NATS_PASS}, {@code NATS_TOKEN}, {@code NATS_TLS_CA_CERT}, {@code NATS_TLS_CERT},
 *   {@code NATS_TLS_KEY}, {@code NATS_TLS_SKIP_VERIFY} (see {@link LogOptions#DEFAULTS_FROM_ENV}).</li>
 * </ul>
 */
final class PluginSettings {
    static final String DEFAULT_STATE_DIR = "/var/lib/nats-log-driver/state";

    private PluginSettings() {
    }

    static DriverConfig fromEnvironment(final Map<String, String> env) {
        final DriverConfig base = DriverConfig.defaults(hostname(env), Path.of(env.getOrDefault("STATE_DIR", DEFAULT_STATE_DIR)));
        final long buffer = bufferWithinMemory(size("NATS_BUFFER_SIZE", env.get("NATS_BUFFER_SIZE"),
            BufferBudget.DEFAULT_CAPACITY), io.netty.util.internal.PlatformDependent.maxDirectMemory());
        final int readers = (int) size("READER_THREADS", env.get("READER_THREADS"), base.readerThreads());
        final Map<String, String> defaults = LogOptions.defaultsFromEnv(env);
        // a bad plugin setting is reported now, in the plugin's log, and again at each StartLogging it spoils
        try {
            LogOptions.parse(Map.of(), defaults);
        } catch (final OptionException e) {
            LoggerFactory.getLogger(PluginSettings.class).error("{}", e.getMessage());
        }
        return new DriverConfig(base.hostname(), base.stateDir(), buffer, Math.max(1, readers), base.maxLineLength(),
            base.maxFrameLength(), defaults, "true".equalsIgnoreCase(env.get("DRAIN_ONLY")),
            "true".equalsIgnoreCase(env.get("DISCARD_EVENTS")), nice(env.get("PUBLISHER_NICE")),
            base.connectionLinger());
    }

    /** {@code PUBLISHER_NICE}: 0 (normal priority) to 19. */
    static int nice(final String value) {
        if (null == value || value.isBlank()) {
            return DriverConfig.DEFAULT_PUBLISHER_NICE;
        }
        try {
            final int n = Integer.parseInt(value.trim());
            if (n >= 0 && n <= 19) {
                return n;
            }
        } catch (final NumberFormatException ignored) {
            // said below
        }
        throw new IllegalArgumentException("PUBLISHER_NICE='" + value + "' is invalid: a nice value from 0 (normal "
            + "priority) to 19 (lowest) is expected");
    }

    /** The host's name: the UTS namespace's, which a managed plugin shares with the host. */
    static String hostname(final Map<String, String> env) {
        try {
            final String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (final IOException ignored) {
            // not Linux: fall back below
        }
        return env.getOrDefault("HOSTNAME", "localhost");
    }

    /**
     * The lines waiting for NATS are kept in direct memory: a buffer of more than half of it would fail under a
     * flood, so it is capped there, loudly.
     */
    static long bufferWithinMemory(final long buffer, final long maxDirectMemory) {
        final long cap = maxDirectMemory / 2;
        if (buffer <= cap) {
            return buffer;
        }
        LoggerFactory.getLogger(PluginSettings.class).warn("NATS_BUFFER_SIZE={} bytes is more than half the plugin's "
            + "direct memory ({} bytes): using {} bytes; give it room with e.g. docker plugin set <plugin> "
            + "JDK_JAVA_OPTIONS=\"-Xms16m -Xmx96m -XX:MaxDirectMemorySize={}m\"", buffer, maxDirectMemory, cap,
            (buffer * 2 + (32L << 20)) >> 20);
        return cap;
    }

    /** A byte count ({@link ByteSize}). */
    static long size(final String name, final String value, final long dflt) {
        if (null == value || value.isBlank()) {
            return dflt;
        }
        try {
            return ByteSize.parse(value);
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException(name + "='" + value + "' is invalid: " + e.getMessage());
        }
    }
}
