package dev.natslog.core.stream;

import dev.natslog.core.event.LineAssembler;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.core.nats.BufferBudget;
import dev.natslog.core.nats.NatsConnections;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Process-wide settings of the driver.
 *
 * @param hostname       the host's name, for the {@code hostname} field and {@code {{.Hostname}}}.
 * @param stateDir       where live streams are remembered for crash recovery.
 * @param bufferBytes    plugin-wide bound on event bytes waiting for NATS.
 * @param readerThreads  threads reading FIFOs.
 * @param maxLineLength  cap of one reassembled line.
 * @param maxFrameLength largest frame accepted.
 * @param optionDefaults plugin-wide defaults of {@code --log-opt}s, by option key (a {@code --log-opt} wins).
 * @param drainOnly      the benchmark's <i>null plugin</i>: FIFOs are read and their bytes thrown away, nothing
 *                       else (no options, no NATS, no journal) — the floor no log driver plugin can beat.
 * @param discardEvents  the benchmark's <i>plugin without NATS</i>: everything a line goes through up to jnats
 *                       (FIFO, journal, decoding, queueing, JSON encoding into batches), then each batch is taken as
 *                       sent and confirmed instead of being handed to jnats — what the plugin itself adds to
 *                       dockerd's plugin path, apart from NATS (it still connects: publishing waits for the
 *                       connection as always).
 * @param publisherNice  the nice value of the publishing threads, 0 to 19 (see {@link #DEFAULT_PUBLISHER_NICE}).
 * @param connectionLinger how long a NATS connection no stream uses stays open for the next stream
 *                       ({@link NatsConnections#DEFAULT_LINGER}; zero closes it with its last stream).
 */
public record DriverConfig(String hostname, Path stateDir, long bufferBytes, int readerThreads, int maxLineLength,
                           int maxFrameLength, Map<String, String> optionDefaults, boolean drainOnly,
                           boolean discardEvents, int publisherNice, Duration connectionLinger) {
    /**
     * The publishing threads (publisher, jnats' writer) run at normal priority by default: lowering it (nice 10)
     * made no difference beyond the noise to how fast containers finish in the {@code docker run} benchmark (two
     * same-run comparisons: 7 % sooner, 16 % later) but cut the plugin's throughput under a flood from 79–89 % to
     * 45–69 % of a plain publisher's, so more lines were dropped (docs/performance-log.md). The FIFO readers always
     * keep the normal priority: they must keep up with dockerd.
     */
    public static final int DEFAULT_PUBLISHER_NICE = 0;

    public DriverConfig {
        optionDefaults = Map.copyOf(optionDefaults);
        if (publisherNice < 0 || publisherNice > 19) {
            throw new IllegalArgumentException("publisherNice must be 0 to 19, not " + publisherNice);
        }
        if (connectionLinger.isNegative()) {
            throw new IllegalArgumentException("connectionLinger must not be negative, not " + connectionLinger);
        }
    }

    /** Defaults for everything but the host name and the state directory. */
    public static DriverConfig defaults(final String hostname, final Path stateDir) {
        return new DriverConfig(hostname, stateDir, BufferBudget.DEFAULT_CAPACITY, 2,
            LineAssembler.DEFAULT_MAX_LINE_LENGTH, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, Map.of(), false,
            false, DEFAULT_PUBLISHER_NICE, NatsConnections.DEFAULT_LINGER);
    }

    /** @return a copy with another buffer bound. */
    public DriverConfig withBufferBytes(final long bytes) {
        return new DriverConfig(hostname, stateDir, bytes, readerThreads, maxLineLength, maxFrameLength, optionDefaults,
            drainOnly, discardEvents, publisherNice, connectionLinger);
    }

    /** @return a copy with another connection linger. */
    public DriverConfig withConnectionLinger(final Duration linger) {
        return new DriverConfig(hostname, stateDir, bufferBytes, readerThreads, maxLineLength, maxFrameLength,
            optionDefaults, drainOnly, discardEvents, publisherNice, linger);
    }
}
