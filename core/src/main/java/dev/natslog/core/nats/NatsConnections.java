package dev.natslog.core.nats;

import dev.natslog.core.config.ConnectionSettings;
import io.nats.client.Options;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@link SharedConnection} per distinct {@link ConnectionSettings}, reference-counted: streams with the same
 * settings share it; when the last one lets go it stays open for a {@code linger} ({@link #DEFAULT_LINGER}) and is
 * flushed and closed only if no stream took it again by then — so a host running short-lived containers one after
 * the other does not connect to NATS (threads, buffers, a new client on the server) for every container.
 */
public final class NatsConnections implements AutoCloseable {
    /** How long a first connect may try before StartLogging answers. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    /** How long a connection no stream uses stays open for the next one. */
    public static final Duration DEFAULT_LINGER = Duration.ofSeconds(30);

    private final BufferBudget budget;
    private final int publisherNice;
    private final ScheduledExecutorService timer;
    private final Duration linger;
    private final boolean discardEvents;
    private final Map<ConnectionSettings, Entry> connections = new HashMap<>();

    private static final class Entry {
        final SharedConnection connection;
        int refs;
        /** The close of an unused connection, pending for the linger; null while streams use it. */
        ScheduledFuture<?> idleClose;

        Entry(final SharedConnection connection) {
            this.connection = connection;
        }
    }

    /**
     * Connections closed as soon as their last stream lets go.
     *
     * @param budget        the plugin-wide bound on events waiting for NATS.
     * @param publisherNice the nice value of each connection's publishing threads (0 to 19).
     */
    public NatsConnections(final BufferBudget budget, final int publisherNice) {
        this(budget, publisherNice, null, Duration.ZERO);
    }

    /**
     * @param budget        the plugin-wide bound on events waiting for NATS.
     * @param publisherNice the nice value of each connection's publishing threads (0 to 19).
     * @param timer         runs the closes of connections left unused for the linger (null when it is zero).
     * @param linger        how long a connection no stream uses stays open for the next stream.
     */
    public NatsConnections(final BufferBudget budget, final int publisherNice, final ScheduledExecutorService timer,
                           final Duration linger) {
        this(budget, publisherNice, timer, linger, false);
    }

    /**
     * @param budget        the plugin-wide bound on events waiting for NATS.
     * @param publisherNice the nice value of each connection's publishing threads (0 to 19).
     * @param timer         runs the closes of connections left unused for the linger (null when it is zero).
     * @param linger        how long a connection no stream uses stays open for the next stream.
     * @param discardEvents the benchmark's plugin without NATS: batches are taken as sent and confirmed instead of
     *                      going to jnats ({@code DriverConfig#discardEvents}).
     */
    public NatsConnections(final BufferBudget budget, final int publisherNice, final ScheduledExecutorService timer,
                           final Duration linger, final boolean discardEvents) {
        if (linger.isNegative() || (!linger.isZero() && null == timer)) {
            throw new IllegalArgumentException("a linger of " + linger + " needs a timer");
        }
        this.budget = budget;
        this.publisherNice = publisherNice;
        this.timer = timer;
        this.linger = linger;
        this.discardEvents = discardEvents;
    }

    /**
     * @param settings the stream's connection settings.
     * @return the shared connection, connecting first if there is none.
     * @throws IOException on authentication or TLS failure (an unreachable server is not an error).
     */
    public synchronized SharedConnection acquire(final ConnectionSettings settings) throws IOException {
        Entry e = connections.get(settings);
        if (null == e) {
            final SharedConnection c = new SharedConnection(settings, budget, publisherNice, true, discardEvents);
            c.connect(options(settings).writerThreadFactory(c.writerThreads()));
            e = new Entry(c);
            connections.put(settings, e);
        } else if (null != e.idleClose) { // unused and lingering: taken again (a close already running sees refs)
            e.idleClose.cancel(false);
            e.idleClose = null;
        }
        e.refs++;
        return e.connection;
    }

    /**
     * @param connection one acquired before; closed (after a flush) once nobody has used it for the linger.
     */
    public void release(final SharedConnection connection) {
        synchronized (this) {
            final Entry e = connections.get(connection.settings());
            if (null == e || e.connection != connection || 0 != --e.refs) {
                return;
            }
            if (!linger.isZero()) {
                e.idleClose = timer.schedule(() -> closeIfUnused(e), linger.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            connections.remove(connection.settings());
        }
        connection.close(Duration.ofSeconds(5));
    }

    /** The linger is over: closes the connection unless a stream took it again meanwhile. */
    private void closeIfUnused(final Entry e) {
        synchronized (this) {
            if (0 != e.refs || connections.get(e.connection.settings()) != e) {
                return;
            }
            connections.remove(e.connection.settings());
        }
        e.connection.close(Duration.ofSeconds(5));
    }

    /** @return connections open now (lingering ones included). */
    public synchronized int size() {
        return connections.size();
    }

    /** Flushes and closes every connection, within about {@code timeout} in all. */
    public void close(final Duration timeout) {
        final List<SharedConnection> all;
        synchronized (this) {
            all = new ArrayList<>();
            connections.values().forEach(e -> {
                if (null != e.idleClose) {
                    e.idleClose.cancel(false);
                }
                all.add(e.connection);
            });
            connections.clear();
        }
        final List<Thread> closers = new ArrayList<>();
        for (final SharedConnection c : all) {
            closers.add(Thread.ofPlatform().name("nats-close").start(() -> c.close(timeout)));
        }
        for (final Thread t : closers) {
            try {
                t.join(timeout.toMillis() + 2000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /** Translates validated settings into jnats options (TLS is added by {@link TlsContexts}). */
    static Options.Builder options(final ConnectionSettings s) throws IOException {
        final Options.Builder b = new Options.Builder()
            .servers(s.servers().toArray(String[]::new))
            .maxReconnects(s.maxReconnect())
            .reconnectWait(Duration.ofMillis(500))
            .reconnectBufferSize(0) // our own BufferBudget is the one bound
            .connectionTimeout(CONNECT_TIMEOUT)
            .maxMessagesInOutgoingQueue(65_536)
            .connectionName("docker-nats-log-driver")
            // every stream's subject was checked once at StartLogging (LogOptions.subjectFor): not again per event
            .noSubjectValidation()
            // keep host names as given: TLS verifies the server's certificate against the name, not its IP
            .noResolveHostnames();
        if (null != s.user()) {
            b.userInfo(s.user(), null == s.password() ? "" : s.password());
        }
        if (null != s.token()) {
            b.token(s.token().toCharArray());
        }
        if (s.tls()) {
            b.sslContext(TlsContexts.create(s));
        }
        return b;
    }
}
