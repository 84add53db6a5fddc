package dev.natslog.core.nats;

import dev.natslog.core.config.ConnectionSettings;
import io.nats.client.Options;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link SharedConnection} per distinct {@link ConnectionSettings}, reference-counted: streams with the same
 * settings share it; it is flushed and closed when the last one lets go.
 */
public final class NatsConnections implements AutoCloseable {
    /** How long a first connect may try before StartLogging answers. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final BufferBudget budget;
    private final int publisherNice;
    private final Map<ConnectionSettings, Entry> connections = new HashMap<>();

    private static final class Entry {
        final SharedConnection connection;
        int refs;

        Entry(final SharedConnection connection) {
            this.connection = connection;
        }
    }

    /**
     * @param budget        the plugin-wide bound on events waiting for NATS.
     * @param publisherNice the nice value of each connection's publishing threads (0 to 19).
     */
    public NatsConnections(final BufferBudget budget, final int publisherNice) {
        this.budget = budget;
        this.publisherNice = publisherNice;
    }

    /**
     * @param settings the stream's connection settings.
     * @return the shared connection, connecting first if there is none.
     * @throws IOException on authentication or TLS failure (an unreachable server is not an error).
     */
    public synchronized SharedConnection acquire(final ConnectionSettings settings) throws IOException {
        Entry e = connections.get(settings);
        if (null == e) {
            final SharedConnection c = new SharedConnection(settings, budget, publisherNice);
            c.connect(options(settings).writerThreadFactory(c.writerThreads()));
            e = new Entry(c);
            connections.put(settings, e);
        }
        e.refs++;
        return e.connection;
    }

    /**
     * @param connection one acquired before; closed (after a flush) when nobody uses it any more.
     */
    public void release(final SharedConnection connection) {
        final boolean last;
        synchronized (this) {
            final Entry e = connections.get(connection.settings());
            if (null == e || e.connection != connection) {
                return;
            }
            last = 0 == --e.refs;
            if (last) {
                connections.remove(connection.settings());
            }
        }
        if (last) {
            connection.close(Duration.ofSeconds(5));
        }
    }

    /** @return connections open now. */
    public synchronized int size() {
        return connections.size();
    }

    /** Flushes and closes every connection, within about {@code timeout} in all. */
    public void close(final Duration timeout) {
        final List<SharedConnection> all;
        synchronized (this) {
            all = new ArrayList<>();
            connections.values().forEach(e -> all.add(e.connection));
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
