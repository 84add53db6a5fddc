package dev.natslog.core.nats;

import dev.natslog.core.config.ConnectionSettings;
import dev.natslog.core.event.LogLine;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Consumer;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.impl.PubBatchMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One jnats connection, shared by every stream with the same {@link ConnectionSettings}, and the one thread that
 * publishes their events.
 *
 * <p><b>Never blocks a FIFO reader.</b> {@link #offer} (or {@link #stage}, then {@link #commit} once per read) only
 * reserves room in the stream's own bound (if any) and in the plugin-wide {@link BufferBudget}, and appends to the
 * stream's {@link EventQueue}; when either is spent,
 * the event is dropped and counted. The publisher thread takes batches from the queues with events (round robin, each
 * queue in order), writes them as NATS protocol text into a {@link PubBatch} that jnats' writer sends as it is
 * ({@link io.nats.client.impl.PubBatchMessage}: one queue item per ~64 KiB instead of one message object, lock and
 * wake-up per event), then {@code flush}es — when a flush's worth are in flight, or
 * {@link #FLUSH_DELAY_NANOS} after the oldest unconfirmed one once no queue is ready: a flush that returns means the server has processed
 * everything before it, and only then are the events confirmed and their bytes given back to the budget. If the
 * connection drops before that, the unconfirmed events go back to the head of their queues and are published
 * again once it is back (at least once: a restart of NATS may duplicate a few events, it does not lose them).
 */
public final class SharedConnection {
    private static final Logger LOG = LoggerFactory.getLogger(SharedConnection.class);
    private static final int BATCH_PER_QUEUE = 1024;
    /**
     * Most events published and not yet confirmed by a flush, per connection: all a {@code kill -9} of the plugin
     * can make it send twice (each stream's resume offset is recorded right after every flush).
     */
    public static final int MAX_INFLIGHT = 8192;
    private static final long MAX_INFLIGHT_BYTES = 8L * 1024 * 1024;
    /**
     * Batch arrays kept for reuse once their events are confirmed (64 KiB each): 64 cover the ~57 batches of a
     * full flight of 8,192 events of 100-byte lines, so a steady stream allocates none. Let go after
     * {@link #IDLE_PARKS_BEFORE_DROPPING_SPARES} idle parks in a row.
     */
    private static final int SPARE_BATCHES = 64;
    private static final int IDLE_PARKS_BEFORE_DROPPING_SPARES = 2;
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Longest park with nothing to do (or no connection): every change that gives the publisher work unparks it (a
     * queue getting ready, a (re)connection, closing), so this bound only paces the idle bookkeeping — an idle
     * plugin's publisher wakes once a second, not ten times.
     */
    private static final long IDLE_PARK_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * Longest a published event waits for the flush that confirms it, once nothing else is ready to publish.
     * Delivery does not wait for it (jnats' writer sends what is published at once); a flush is a PING/PONG round
     * trip that wakes three threads here and the server, so events published meanwhile share it. At a steady
     * 100,000 lines/s, flushing as soon as the ready queues were empty cost 1,000 flushes/s; at 10,000 lines/s one
     * flush per 100 ms rather than per 10 ms cut the plugin's CPU per line by 5-20 % (ThroughputBenchmark
     * {@code RATE=10000}, alternated runs). Waiting longer costs no memory beyond {@link #MAX_INFLIGHT} events,
     * which flush at once, and after a {@code kill -9} at most those are sent twice.
     */
    static final long FLUSH_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * How long the publisher, woken from idle by a first ready queue, lets others get ready before it publishes:
     * hundreds of quiet containers then share one wake-up of the publisher, of jnats' writer and of the server,
     * instead of one per FIFO read each. It only does so when queues got ready more than twice per this time over
     * the last {@link #GATHER_WINDOW_NANOS} (else the wait would add a wake-up rather than save some: one stream
     * read every 10 ms), and a busy publisher never idles, so never waits here.
     */
    static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long GATHER_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ConnectionSettings settings;
    private final BufferBudget budget;
    /** The publishing threads' nice value: on a busy host they yield to dockerd and the containers. */
    private final int nice;
    private final ConcurrentLinkedQueue<EventQueue> ready = new ConcurrentLinkedQueue<>();
    private final Thread publisher;
    private final Listener listener = new Listener();
    private volatile Connection connection;
    private volatile boolean stopping;
    private volatile long stopDeadline;
    /** The publisher is letting queues get ready ({@link #GATHER_NANOS}): scheduling a queue need not wake it. */
    private volatile boolean gathering;
    /** Times the publisher gathered (written by the publisher only). */
    private volatile long gathers;

    // publisher thread only
    /** The publisher parked because nothing was ready. */
    private boolean wasIdle;
    /** Parks in a row with nothing ready and nothing in flight. */
    private int idleParks;
    /** Queues taken from {@link #ready} since {@link #windowStart}; whether the last window had more than enough. */
    private long readyInWindow;
    private long windowStart;
    private boolean gatherPays;
    /** When the oldest unconfirmed event was published (valid while {@code inflightCount > 0}). */
    private long oldestInflightNanos;
    /** jnats' reconnect count, our disconnect count and jnats' transport when the oldest unconfirmed event was published. */
    private long inflightReconnects;
    private long inflightDisconnects;
    private Object inflightTransport;
    /** Disconnections seen by the listener. */
    private final java.util.concurrent.atomic.AtomicLong disconnects = new java.util.concurrent.atomic.AtomicLong();
    private final EventQueue[] inflightQueue = new EventQueue[MAX_INFLIGHT];
    /** The protocol text holding each in-flight event (the batch's working array until it is handed over). */
    private final byte[][] inflightWire = new byte[MAX_INFLIGHT][];
    private final int[] inflightOffset = new int[MAX_INFLIGHT];
    private final int[] inflightLength = new int[MAX_INFLIGHT];
    private final long[] inflightResume = new long[MAX_INFLIGHT];
    private final int[] inflightReserved = new int[MAX_INFLIGHT];
    private int inflightCount;
    private long inflightBytes;
    /** Events published since the last hand-over to jnats: in-flight indices {@code batchStart..inflightCount-1}. */
    private final PubBatch batch = new PubBatch(Options.DEFAULT_BUFFER_SIZE, SPARE_BATCHES);
    private int batchStart;
    /** False to publish event by event with jnats' public API (its internals did not link, or a test asks). */
    private boolean batched;
    /** The benchmark's plugin without NATS: batches go nowhere and count as confirmed at once. */
    private final boolean discard;
    private long lastOversizeLog;

    SharedConnection(final ConnectionSettings settings, final BufferBudget budget, final int nice) {
        this(settings, budget, nice, true);
    }

    /** @param batched false to publish event by event with jnats' public API, as if its internals did not link. */
    SharedConnection(final ConnectionSettings settings, final BufferBudget budget, final int nice,
                     final boolean batched) {
        this(settings, budget, nice, batched, false);
    }

    /**
     * @param batched false to publish event by event with jnats' public API, as if its internals did not link.
     * @param discard the benchmark's plugin without NATS: each batch is taken as sent, and each flush as answered,
     *                without jnats ({@code DriverConfig#discardEvents}).
     */
    SharedConnection(final ConnectionSettings settings, final BufferBudget budget, final int nice,
                     final boolean batched, final boolean discard) {
        this.discard = discard;
        this.batched = batched;
        this.settings = settings;
        this.budget = budget;
        this.nice = nice;
        this.publisher = Thread.ofPlatform().name("nats-publisher").daemon(true).unstarted(this::publishLoop);
    }

    /** @return the factory of jnats' writer thread: at this connection's nice value, like the publisher. */
    java.util.concurrent.ThreadFactory writerThreads() {
        return r -> Thread.ofPlatform().daemon(true).name("nats-writer").unstarted(() -> {
            Niceness.ofCurrentThread(nice);
            r.run();
        });
    }

    /**
     * Connects: tries for a short while; an authentication or TLS failure is an error; a server that is only
     * unreachable is not: the connection keeps trying in the background and events wait (bounded) meanwhile.
     *
     * @throws IOException on an authentication or TLS failure, naming it (never a secret).
     */
    void connect(final Options.Builder options) throws IOException {
        final Options opts = options.connectionListener(listener).errorListener(listener).build();
        try {
            connection = Nats.connect(opts); // the listener has logged the connection
        } catch (final IOException e) {
            final String fatal = listener.fatalError(e);
            if (null != fatal) {
                throw new IOException("cannot connect to NATS " + String.join(",", settings.servers()) + ": " + fatal, e);
            }
            LOG.warn("NATS not reachable yet ({}): {}; events are buffered and sent once it is", settings, e.getMessage());
            try {
                Nats.connectAsynchronously(opts, true);
            } catch (final InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while connecting to NATS", ie);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to NATS", e);
        }
        publisher.start();
    }

    /**
     * Queues one line (copied) and hands it to the publisher at once: {@link #stage} and {@link #commit} of one line.
     * Never waits. Called on the stream's FIFO reader thread.
     *
     * @param queue the stream's queue.
     * @param line  the line; read, not kept.
     */
    public void offer(final EventQueue queue, final LogLine line) {
        stage(queue, line);
        commit(queue);
    }

    /**
     * Queues one line (copied) for the publisher to see at the next {@link #commit}: the reader's way, one lock of the
     * queue per FIFO read instead of one per line. When the container's or the plugin's buffer is full the line is
     * dropped and counted, and so is the rest of the read ({@link EventQueue#stageOrDrop}). Never waits. Called on
     * the stream's FIFO reader thread.
     *
     * @param queue the stream's queue.
     * @param line  the line; read, not kept.
     */
    public void stage(final EventQueue queue, final LogLine line) {
        try {
            queue.stageOrDrop(line, budget);
        } catch (final OutOfMemoryError e) { // no direct memory for a chunk: the line was dropped; keep the reader
            LOG.error("container {}: dropped a line: {}", queue.name(), e.getMessage());
        }
    }

    /**
     * Hands the lines {@link #stage}d since the last call to the publisher. Called on the stream's FIFO reader
     * thread after each read it decoded (and before the stream ends).
     *
     * @param queue the stream's queue.
     */
    public void commit(final EventQueue queue) {
        if (queue.commit()) {
            schedule(queue);
        }
    }


    private void schedule(final EventQueue queue) {
        // read first: while the publisher has not taken the queue yet, a line costs no write to the shared flag
        if (!queue.scheduled.get() && queue.scheduled.compareAndSet(false, true)) {
            ready.offer(queue);
            if (!gathering) { // else the publisher looks at the ready queues when its gathering ends
                LockSupport.unpark(publisher);
            }
        }
    }

    /** @return how many times the publisher waited {@link #GATHER_NANOS} for more queues to get ready. */
    long gathers() {
        return gathers;
    }

    /** @return the settings of this connection. */
    public ConnectionSettings settings() {
        return settings;
    }

    /**
     * Publishes what is still queued for up to {@code timeout}, then closes the connection.
     *
     * @param timeout longest wait.
     */
    void close(final Duration timeout) {
        stopDeadline = System.nanoTime() + timeout.toNanos();
        stopping = true;
        LockSupport.unpark(publisher);
        try {
            publisher.join(Math.max(1, timeout.toMillis() + 500));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        final Connection c = connection;
        if (null != c) {
            try {
                c.close();
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        LOG.info("NATS connection closed: {}", settings);
    }

    private void publishLoop() {
        Niceness.ofCurrentThread(nice);
        while (publishStep()) {
            // each step is its own call: the JIT compiles it like any method (this loop turns only ~1000 times a
            // second, too few for an on-stack replacement: left in one method, its body stayed interpreted)
        }
    }

    /**
     * One turn of the publisher: takes a ready queue into the batch, or hands the batch over, flushes or waits.
     *
     * @return false once the publisher is done (stopping, and nothing left or the deadline passed).
     */
    private boolean publishStep() {
        final Connection c = connection;
        final boolean up = null != c && c.getStatus() == Connection.Status.CONNECTED;
        if (stopping && (System.nanoTime() - stopDeadline > 0 || (0 == inflightCount && ready.isEmpty()) || !up)) {
            if (up && inflightCount > 0) {
                flush(c);
            }
            return false;
        }
        if (!up) {
            if (inflightCount > 0) {
                requeueInflight();
            }
            LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            return true;
        }
        final EventQueue queue = ready.poll();
        if (null == queue) {
            if (!batch.isEmpty()) { // nothing else to add: to jnats with it before waiting
                if (!handOver(c)) {
                    requeueInflight();
                }
                return true;
            }
            if (inflightCount > 0) {
                final long wait = oldestInflightNanos + FLUSH_DELAY_NANOS - System.nanoTime();
                if (wait <= 0 || stopping) {
                    flush(c);
                } else {
                    wasIdle = true;
                    LockSupport.parkNanos(this, wait); // or until a queue is scheduled
                }
            } else {
                wasIdle = true;
                if (++idleParks == IDLE_PARKS_BEFORE_DROPPING_SPARES) {
                    batch.dropSpares(); // ~1 s with nothing to publish
                }
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            }
            return true;
        }
        idleParks = 0;
        readyInWindow++;
        if (wasIdle) {
            wasIdle = false;
            final long now = System.nanoTime();
            if (now - windowStart >= GATHER_WINDOW_NANOS) {
                gatherPays = readyInWindow * GATHER_NANOS > 2 * (now - windowStart); // > 2 per GATHER_NANOS
                readyInWindow = 0;
                windowStart = now;
            }
            if (gatherPays) {
                gather(now);
            }
        }
        queue.scheduled.set(false);
        final boolean published = publishBatch(c, queue);
        if (!published) {
            requeueInflight();
        }
        if (queue.hasEvents()) { // also after a failure: its lines not taken yet have no event in flight
            schedule(queue);
        }
        if (!published) {
            return true;
        }
        if (inflightCount >= MAX_INFLIGHT - BATCH_PER_QUEUE || inflightBytes >= MAX_INFLIGHT_BYTES) {
            flush(c);
        }
        return true;
    }

    /** Waits {@link #GATHER_NANOS} (not when stopping), unwoken by queues getting ready meanwhile. */
    private void gather(final long now) {
        gathers++;
        gathering = true; // volatile: a schedule() that reads it true offered its queue before it is set back
        final long deadline = now + GATHER_NANOS;
        for (long left = GATHER_NANOS; left > 0 && !stopping; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(this, left);
        }
        gathering = false;
    }

    /**
     * Takes up to {@link #BATCH_PER_QUEUE} of a queue's events into the {@link PubBatch}, handing the batch to jnats
     * whenever it is full.
     *
     * @return false when the connection failed under it (the taken events are in flight, to be requeued).
     */
    private boolean publishBatch(final Connection c, final EventQueue queue) {
        final long maxPayload = c.getMaxPayload();
        for (int i = 0; i < BATCH_PER_QUEUE && inflightCount < MAX_INFLIGHT; i++) {
            final int taken = queue.pollInto(batch, inflightResume, inflightReserved, inflightCount);
            if (EventQueue.NONE == taken) {
                return true;
            }
            if (EventQueue.NO_ROOM == taken) {
                if (!handOver(c)) {
                    return false;
                }
                i--; // nothing was taken: the same event goes into the emptied batch
                continue;
            }
            final int size = batch.lastSize();
            if (maxPayload > 0 && size > maxPayload) {
                batch.removeLast();
                budget.release(inflightReserved[inflightCount]);
                queue.release(inflightReserved[inflightCount]);
                queue.discarded(size, inflightResume[inflightCount]);
                logOversize(queue, size, maxPayload);
                continue;
            }
            if (0 == inflightCount) {
                oldestInflightNanos = System.nanoTime();
                inflightReconnects = c.getStatistics().getReconnects();
                inflightDisconnects = disconnects.get();
                inflightTransport = transport(c);
            }
            inflightQueue[inflightCount] = queue;
            inflightOffset[inflightCount] = batch.lastOffset();
            inflightWire[inflightCount] = batch.wire();
            inflightLength[inflightCount] = size;
            inflightCount++;
            inflightBytes += size;
        }
        return true;
    }

    /**
     * Hands the batch to jnats, whose writer thread sends it. Events in it point at the array handed over from
     * now on.
     *
     * @return false when the connection is not connected (the events stay in flight, to be requeued).
     */
    private boolean handOver(final Connection c) {
        if (batch.isEmpty()) {
            return true;
        }
        final int length = batch.length();
        final int firstControlLine = batch.firstControlLine();
        final byte[] wire = batch.take();
        final int from = batchStart;
        for (int i = from; i < inflightCount; i++) {
            inflightWire[i] = wire;
        }
        batchStart = inflightCount;
        if (discard) {
            return true;
        }
        try {
            if (batched) {
                try {
                    PubBatchMessage.queue(c, wire, length, firstControlLine);
                    return true;
                } catch (final LinkageError | ClassCastException e) {
                    unbatched(e);
                }
            }
            for (int i = from; i < inflightCount; i++) {
                c.publish(inflightQueue[i].subject(),
                    Arrays.copyOfRange(wire, inflightOffset[i], inflightOffset[i] + inflightLength[i]));
            }
            return true;
        } catch (final IllegalStateException e) {
            return false; // disconnected or closed meanwhile
        }
    }

    /** @return jnats' transport of the connection ({@link PubBatchMessage#transport}), or null without batches. */
    private Object transport(final Connection c) {
        if (batched) {
            try {
                return PubBatchMessage.transport(c);
            } catch (final LinkageError | ClassCastException e) {
                unbatched(e);
            }
        }
        return null;
    }

    /**
     * @return batches handed to jnats and arrays made for batches, as a pair; read by tests once the publisher is
     *     quiet (plain fields of the publisher thread).
     */
    long[] batchArrays() {
        return new long[] {batch.taken(), batch.arraysMade()};
    }

    /** jnats' internals did not link with {@link PubBatchMessage}: from now on, event by event. */
    private void unbatched(final Throwable e) {
        batched = false;
        LOG.error("publishing event by event: this jnats does not take batches ({})", e.toString());
    }

    private void flush(final Connection c) {
        if (!handOver(c)) { // the flush's PING must follow every event it confirms
            requeueInflight();
            return;
        }
        if (!discard && !answered(c)) {
            requeueInflight();
            return;
        }
        long released = 0;
        int runEvents = 0;
        long runReserved = 0;
        long runBytes = 0;
        for (int i = 0; i < inflightCount; i++) {
            final EventQueue q = inflightQueue[i];
            runEvents++;
            runReserved += inflightReserved[i];
            runBytes += inflightLength[i];
            if (i + 1 == inflightCount || inflightQueue[i + 1] != q) {
                // the end of a run of one queue's events (a batch holds runs of up to BATCH_PER_QUEUE): settled as
                // one, then checkpointed, so a crash now repeats none of them
                q.release(runReserved);
                q.confirmed(runEvents, runBytes, inflightResume[i]);
                q.checkpoint();
                released += runReserved;
                runEvents = 0;
                runReserved = 0;
                runBytes = 0;
            }
            final byte[] wire = inflightWire[i];
            if (i + 1 == inflightCount || inflightWire[i + 1] != wire) {
                // the last event of its batch (a batch's events are consecutive): jnats' writer copied the batch
                // before it sent the PING this flush was answered for, and no event in it is needed any more
                batch.recycle(wire);
            }
            inflightQueue[i] = null;
            inflightWire[i] = null;
        }
        budget.release(released); // once per flush: the FIFO readers reserve from the same counter per line
        inflightCount = 0;
        inflightBytes = 0;
        batchStart = 0;
    }

    /**
     * Flushes: the server's answer to a PING sent after the in-flight events.
     *
     * @return true if the server answered on the connection that took those events; false if the flush failed or
     *     the connection was lost meanwhile (the events are to be sent again).
     */
    private boolean answered(final Connection c) {
        try {
            c.flush(FLUSH_TIMEOUT);
        } catch (final Exception e) {
            LOG.debug("flush failed ({}); {} events will be sent again", e.toString(), inflightCount);
            return false;
        }
        // jnats' flush waits out a reconnect and then pings the new server: its answer says nothing of the events
        // that went into the old connection's socket as it died
        if (c.getStatus() != Connection.Status.CONNECTED || c.getStatistics().getReconnects() != inflightReconnects
            || disconnects.get() != inflightDisconnects || transport(c) != inflightTransport) {
            LOG.debug("the connection was lost while {} events were in flight; they will be sent again", inflightCount);
            return false;
        }
        return true;
    }

    /** Puts unconfirmed events back at the head of their queues, in their order (also those not handed over). */
    private void requeueInflight() {
        for (int i = inflightCount - 1; i >= 0; i--) {
            final int from = inflightOffset[i];
            inflightQueue[i].pushBack(Arrays.copyOfRange(inflightWire[i], from, from + inflightLength[i]),
                inflightResume[i], inflightReserved[i]);
        }
        for (int i = 0; i < inflightCount; i++) {
            schedule(inflightQueue[i]);
            inflightQueue[i] = null;
            inflightWire[i] = null;
        }
        inflightCount = 0;
        inflightBytes = 0;
        batch.clear();
        batchStart = 0;
    }

    private void logOversize(final EventQueue queue, final int size, final long maxPayload) {
        final long now = System.nanoTime();
        if (now - lastOversizeLog > TimeUnit.SECONDS.toNanos(5) || 0 == lastOversizeLog) {
            lastOversizeLog = now;
            LOG.warn("container {}: dropped an event of {} bytes: over the server's max_payload of {} bytes",
                queue.name(), size, maxPayload);
        }
    }

    /** @return true when the failure means no server answered at all (refused, timed out, unknown host). */
    private static boolean unreachable(final Throwable failure) {
        for (Throwable t = failure; null != t; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.NoRouteToHostException
                || t instanceof java.net.UnknownHostException || t instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Connection events, and the errors that tell a bad configuration from an unreachable server. */
    private final class Listener implements ConnectionListener, ErrorListener {
        private volatile String lastServerError;
        private volatile Exception lastException;

        @Override
        public void connectionEvent(final Connection conn, final Events type) {
            switch (type) {
                case CONNECTED, RECONNECTED -> {
                    // after a failed first connect, jnats reports the background success as either event
                    if (null == connection) {
                        connection = conn;
                        LOG.info("NATS connected: {} (server {})", settings, conn.getConnectedUrl());
                    } else if (type == Events.RECONNECTED) {
                        LOG.info("NATS reconnected: {} (server {})", settings, conn.getConnectedUrl());
                    }
                    LockSupport.unpark(publisher);
                }
                case DISCONNECTED -> {
                    disconnects.incrementAndGet();
                    if (conn == connection) {
                        LOG.warn("NATS disconnected: {}; events are buffered meanwhile", settings);
                    }
                }
                case CLOSED -> {
                    if (!stopping && conn == connection) {
                        LOG.error("NATS connection closed for good ({}): nats-max-reconnect={} reached", settings,
                            settings.maxReconnect());
                    }
                }
                default -> LOG.debug("NATS {}: {}", type, settings);
            }
        }

        @Override
        public void errorOccurred(final Connection conn, final String error) {
            lastServerError = error;
            LOG.warn("NATS server error ({}): {}", settings, error);
        }

        @Override
        public void exceptionOccurred(final Connection conn, final Exception exp) {
            lastException = exp;
            LOG.debug("NATS exception ({}): {}", settings, exp.toString());
        }

        @Override
        public void slowConsumerDetected(final Connection conn, final Consumer consumer) {
            // we do not subscribe
        }

        /** @return why connecting failed if it is a configuration problem (auth, TLS); null if merely unreachable. */
        String fatalError(final IOException e) {
            final String server = lastServerError;
            if (null != server && server.toLowerCase().contains("authoriz")) {
                return "authorization failed (" + server.trim() + "): check nats-user/nats-pass or nats-token";
            }
            for (Throwable t = lastException; null != t; t = t.getCause()) {
                if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException) {
                    return "TLS failed: " + t.getMessage();
                }
            }
            for (Throwable t = e; null != t; t = t.getCause()) {
                if (t instanceof javax.net.ssl.SSLException) {
                    return "TLS failed: " + t.getMessage();
                }
                if (t instanceof io.nats.client.AuthenticationException) {
                    return "authorization failed: " + t.getMessage();
                }
            }
            final Exception last = lastException;
            if (settings.tls() && null != last && !unreachable(last)) {
                // the server was there but dropped us during the TLS handshake: with TLS 1.3 a refused client
                // certificate shows only as a closed connection
                return "TLS failed: the server closed the connection during the handshake (" + last.getMessage()
                    + "); does it require a client certificate (nats-tls-cert, nats-tls-key) from another CA?";
            }
            return null;
        }
    }
}
