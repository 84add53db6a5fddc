package dev.natslog.core.stream;

import dev.natslog.core.config.LogOptions;
import dev.natslog.core.config.OptionException;
import dev.natslog.core.config.StreamSettings;
import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.event.LogStreamCodec;
import dev.natslog.core.fifo.FifoReader;
import dev.natslog.core.nats.BufferBudget;
import dev.natslog.core.nats.EventQueue;
import dev.natslog.core.nats.NatsConnections;
import dev.natslog.core.nats.RecordChunks;
import dev.natslog.core.nats.SharedConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What Docker's LogDriver calls do, without HTTP: the registry of live streams, keyed by FIFO path.
 *
 * <ul>
 *   <li>{@link #start}: options are parsed and validated before anything is opened; a second call for a live
 *   FIFO changes nothing (dockerd may retry); whatever was opened is closed again if a later step fails.</li>
 *   <li>{@link #stop}: returns at once. dockerd closes its end only after StopLogging's reply, so the stream
 *   keeps reading to end of file, publishes what is left, then removes itself. No lock is held during I/O.</li>
 *   <li>Drops and corrupt bytes are logged per container at most every {@link #REPORT_INTERVAL}.</li>
 * </ul>
 */
public final class LogDriver implements AutoCloseable {
    /** How often drops and corruption are reported, at most. */
    public static final Duration REPORT_INTERVAL = Duration.ofSeconds(5);
    /** After StopLogging, how long to wait for dockerd to close its end before closing ours. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(60);

    private static final Logger LOG = LoggerFactory.getLogger(LogDriver.class);

    /** A StartLogging request: the FIFO and the container. */
    public record StartRequest(String file, ContainerInfo info) {
    }

    private final DriverConfig config;
    private final BufferBudget budget;
    private final NatsConnections connections;
    private final FifoReader reader;
    private final StateStore state;
    private final LogStreamCodec.Factory codecs;
    /** The record chunks of every stream's queue, handed from publishers back to readers. */
    private final RecordChunks recordChunks;
    private final ScheduledExecutorService timer;
    private final Map<String, CompletableFuture<LogStream>> streams = new ConcurrentHashMap<>();
    /** FIFOs being drained by the null plugin ({@link DriverConfig#drainOnly()}). */
    private final Map<String, FifoReader.Handle> drained = new ConcurrentHashMap<>();
    private volatile boolean closing;
    /** Counters of the streams that ended, for {@link #stats()}. */
    private final java.util.concurrent.atomic.AtomicLong endedSent = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong endedDropped = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param config the process-wide settings.
     */
    public LogDriver(final DriverConfig config) {
        this.config = config;
        this.budget = new BufferBudget(config.bufferBytes());
        this.recordChunks = new RecordChunks(PooledByteBufAllocator.DEFAULT, RecordChunks.sparesFor(config.bufferBytes()));
        this.reader = new FifoReader(config.readerThreads(), PooledByteBufAllocator.DEFAULT);
        this.state = new StateStore(config.stateDir());
        this.codecs = new LogStreamCodec.Factory(PooledByteBufAllocator.DEFAULT, config.maxFrameLength(),
            config.maxLineLength());
        final ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
            r -> Thread.ofPlatform().name("log-driver-timer").daemon(true).unstarted(r));
        // a stream's StopLogging deadline is cancelled when the stream ends: gone from the queue at once, not held
        // (with the stream, its codec and its connection's buffers) for the rest of STOP_GRACE
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.connections = new NatsConnections(budget, config.publisherNice(), timer, config.connectionLinger(),
            config.discardEvents());
        final long every = REPORT_INTERVAL.toMillis();
        timer.scheduleWithFixedDelay(this::report, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * StartLogging.
     *
     * @param file    the FIFO dockerd made for the container.
     * @param info    the container.
     * @param request the request's body, saved for crash recovery.
     * @throws OptionException when an option cannot be used (the message is for {@code docker run}).
     * @throws IOException     when NATS refuses the credentials or TLS fails, or the FIFO cannot be opened.
     */
    public void start(final String file, final ContainerInfo info, final byte[] request) throws IOException {
        if (closing) {
            throw new IOException("the NATS log driver is shutting down");
        }
        if (config.drainOnly()) {
            drain(file);
            return;
        }
        final CompletableFuture<LogStream> mine = new CompletableFuture<>();
        final CompletableFuture<LogStream> existing = streams.putIfAbsent(file, mine);
        if (null != existing) {
            try {
                existing.join(); // a retry of a live (or starting) stream: same outcome, nothing changes
                return;
            } catch (final CompletionException e) {
                start(file, info, request); // the first attempt failed and is gone: this one is a new attempt
                return;
            }
        }
        try {
            final StreamSettings settings = StreamSettings.resolve(info, LogOptions.parse(info.config(), config.optionDefaults()),
                config.hostname());
            final SharedConnection connection = connections.acquire(settings.connection());
            Journal journal = null;
            try {
                journal = Journal.open(config.stateDir(), StateStore.nameFor(file));
                final LogStream stream = new LogStream(file, info, settings, connection, codecs, recordChunks, journal,
                    this::ended);
                state.save(file, request);
                final long replayed = stream.replay();
                if (replayed > 0) {
                    LOG.info("container {}: replaying {} journaled bytes not confirmed before the restart",
                        stream.name(), replayed);
                }
                stream.handle = reader.open(Path.of(file), stream);
                mine.complete(stream);
                LOG.info("stream started: container {} ({}) -> subject {} on {}", stream.name(), info.id(),
                    settings.subject(), String.join(",", settings.connection().servers()));
            } catch (final IOException | RuntimeException e) {
                state.remove(file);
                if (null != journal) {
                    journal.delete();
                }
                connections.release(connection);
                throw e;
            }
        } catch (final IOException | RuntimeException e) {
            streams.remove(file, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** The null plugin: reads the FIFO to its end and throws the bytes away. */
    private synchronized void drain(final String file) throws IOException {
        if (drained.containsKey(file)) {
            return;
        }
        drained.put(file, reader.open(Path.of(file), new FifoReader.Consumer() {
            @Override
            public void onBytes(final ByteBuf read) {
                // thrown away
            }

            @Override
            public void onEnd(final Throwable error) {
                drained.remove(file);
            }
        }));
    }

    /**
     * StopLogging: never fails, returns at once; the stream drains its FIFO to end of file by itself.
     *
     * @param file the FIFO.
     */
    public void stop(final String file) {
        final CompletableFuture<LogStream> f = streams.get(file);
        if (null == f || !f.isDone() || f.isCompletedExceptionally()) {
            return;
        }
        final LogStream stream = f.join();
        stream.stopRequested = true;
        final ScheduledFuture<?> deadline = timer.schedule(() -> {
            if (streams.get(file) == f && null != stream.handle) {
                LOG.warn("container {}: no end of file {} s after StopLogging; closing its FIFO", stream.name(),
                    STOP_GRACE.toSeconds());
                stream.handle.close();
            }
        }, STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        stream.stopDeadline = deadline;
        if (stream.finished) { // it ended meanwhile: finished() may have looked before the deadline was set
            deadline.cancel(false);
        }
    }

    /**
     * Re-opens every saved stream whose FIFO still exists (after a crash, dockerd does not repeat
     * StartLogging); forgets the others.
     *
     * @param parse turns a saved request body back into a request (the HTTP layer's JSON decoding).
     * @return streams re-opened.
     */
    public int recover(final Function<byte[], StartRequest> parse) {
        int reopened = 0;
        for (final byte[] saved : state.all()) {
            final StartRequest r;
            try {
                r = parse.apply(saved);
            } catch (final RuntimeException e) {
                LOG.warn("ignoring an unreadable saved stream: {}", e.toString());
                continue;
            }
            if (!Files.exists(Path.of(r.file()))) {
                state.remove(r.file());
                continue;
            }
            try {
                start(r.file(), r.info(), saved);
                reopened++;
                LOG.info("stream recovered after a restart: container {}", r.info().name());
            } catch (final IOException | RuntimeException e) {
                LOG.error("cannot recover the stream of container {}: {}", r.info().name(), e.getMessage());
            }
        }
        return reopened;
    }

    /** @return the counters of the plugin and of each live stream, now. */
    public DriverStats stats() {
        final List<DriverStats.Stream> live = new java.util.ArrayList<>();
        long sent = endedSent.get();
        long dropped = endedDropped.get();
        for (final LogStream s : streamsForTest()) {
            final EventQueue q = s.queue;
            live.add(new DriverStats.Stream(s.info.fullId(), s.info.name(), s.settings.subject(), q.sent(), q.sentBytes(),
                q.dropped(), q.droppedBytes(), q.waiting(), s.codec.decoder().bytesSkipped()));
            sent += q.sent();
            dropped += q.dropped();
        }
        return new DriverStats(budget.used(), budget.capacity(), connections.size(), sent, dropped, live);
    }

    /** @return streams being read or drained now. */
    public int liveStreams() {
        return streams.size();
    }

    /** @return the live streams (for tests in this package). */
    /** @return tasks waiting on the timer (its two periodic ones, and each stopped stream's deadline until it ends). */
    int timerTasksForTest() {
        return ((ScheduledThreadPoolExecutor) timer).getQueue().size();
    }

    java.util.List<LogStream> streamsForTest() {
        return streams.values().stream().filter(f -> f.isDone() && !f.isCompletedExceptionally())
            .map(CompletableFuture::join).toList();
    }

    /** @return the plugin-wide buffer. */
    public BufferBudget budget() {
        return budget;
    }

    /** @return the shared connections. */
    public NatsConnections connections() {
        return connections;
    }

    /**
     * Shutdown: stops reading (live streams stay saved, so a restarted plugin picks them up), publishes what is
     * buffered for up to {@code timeout}, closes every connection.
     */
    public void close(final Duration timeout) {
        closing = true;
        drained.values().forEach(FifoReader.Handle::close);
        for (final CompletableFuture<LogStream> f : streams.values()) {
            if (f.isDone() && !f.isCompletedExceptionally() && null != f.join().handle) {
                f.join().handle.close();
            }
        }
        connections.close(timeout);
        reader.close();
        timer.shutdownNow();
        for (final LogStream s : streamsForTest()) {
            s.checkpoint(); // what was confirmed during the flush is not sent again by the next start
            s.journal.close();
            s.queue.close();
        }
        recordChunks.clear();
        LOG.info("NATS log driver stopped");
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /** On the FIFO's reader thread: the FIFO has ended; wait for its events to be confirmed, then finish. */
    private void ended(final LogStream stream, final Throwable error) {
        if (null != error) {
            LOG.warn("container {}: reading its FIFO failed: {}", stream.name(), error.toString());
        }
        stream.queue.end(() -> timer.execute(() -> finished(stream)));
    }

    private void finished(final LogStream stream) {
        stream.finished = true;
        final ScheduledFuture<?> deadline = stream.stopDeadline;
        if (null != deadline) {
            deadline.cancel(false);
        }
        streams.remove(stream.file);
        if (closing) {
            stream.checkpoint(); // on shutdown the stream stays saved for the next start
            stream.journal.close();
        } else {
            state.remove(stream.file);
            stream.journal.delete();
        }
        report(stream);
        endedSent.addAndGet(stream.queue.sent());
        endedDropped.addAndGet(stream.queue.dropped());
        LOG.info("stream ended: container {}: {} lines ({} bytes) sent, {} dropped, {} corrupt bytes skipped",
            stream.name(), stream.queue.sent(), stream.queue.sentBytes(), stream.queue.dropped(),
            stream.codec.decoder().bytesSkipped());
        stream.queue.close();
        connections.release(stream.connection);
    }

    private void report() {
        recordChunks.trim(); // spare record chunks not needed for a while go back
        for (final CompletableFuture<LogStream> f : streams.values()) {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                report(f.join());
            }
        }
    }

    private void report(final LogStream s) {
        final long drops = s.queue.dropped();
        if (drops > s.reportedDrops) {
            LOG.warn("container {}: dropped {} events ({} in all, {} bytes): NATS is slow or unreachable and {}",
                s.name(), drops - s.reportedDrops, drops, s.queue.droppedBytes(), 0 == s.queue.bound()
                    ? "the plugin's buffer of " + budget.capacity() + " bytes is full"
                    : "the container's buffer of " + s.queue.bound() + " bytes (nats-buffer-size) or the plugin's of "
                        + budget.capacity() + " bytes is full");
            s.reportedDrops = drops;
        }
        final long skipped = s.codec.decoder().bytesSkipped();
        if (skipped > s.reportedSkipped) {
            LOG.warn("container {}: skipped {} bytes of corrupt frames ({} in all)", s.name(),
                skipped - s.reportedSkipped, skipped);
            s.reportedSkipped = skipped;
        }
        final long failures = s.codec.decoder().handlerFailures();
        if (failures > s.reportedHandlerFailures) {
            // a bug, not bad input: the frame's line was not published; say so rather than lose it silently
            LOG.error("container {}: {} lines could not be turned into events ({} in all); last failure: {}",
                s.name(), failures - s.reportedHandlerFailures, failures,
                String.valueOf(s.codec.decoder().lastHandlerFailure()));
            s.reportedHandlerFailures = failures;
        }
    }
}
