package io.nats.client.impl;

import io.nats.client.Connection;
import io.nats.client.support.ByteArrayBuilder;

/**
 * Many NATS {@code PUB}s as one item of jnats' outgoing queue: the only class of this project inside jnats'
 * package, because jnats has no public way to hand its writer several messages at once.
 *
 * <p>Why: {@code Connection.publish} costs per message a message object, a protocol buffer sized to the payload
 * (the control line is built in it, then copied), the subject's and the size's bytes as new arrays, the queue's
 * lock and two clock reads, and the writer thread's per-message bookkeeping — about 0.8 µs of CPU per 450-byte
 * message on the 2-core machine of README's figures (docs/performance-log.md), more than everything else the plugin does for a line. The
 * publisher instead writes its events as protocol text itself ({@code dev.natslog.core.nats.PubBatch}) and queues
 * one of these per ~64 KiB.
 *
 * <p>How: jnats' writer ({@code NatsConnectionWriter.sendMessageBatch}) copies a non-protocol message into its
 * send buffer as: the protocol builder's bytes, CRLF, {@link #copyNotEmptyHeaders}'s bytes, the data, CRLF. The
 * builder holds the first {@code PUB} line, the "headers" are everything after its CRLF up to the final CRLF, the
 * data is empty. Everything else jnats does with a message is unchanged: the same queue (so a flush's PING still
 * follows every batch queued before it), the same writer, socket, TLS and reconnect handling — except that a batch
 * still queued when the connection is lost is dropped ({@link #isFilterOnStop}): the publisher resends it.
 *
 * <p>What it relies on (jnats {@code 2.26.x}; the build pins the version): the fields and methods used here, which
 * the compiler checks ({@code @Override} fails the build if the writer's hook is renamed), and the writer's copy
 * order above, which every delivery test checks against a real nats-server; and that the writer copies each queue
 * item once, in queue order, before it sends what follows it — the publisher writes a batch's array again once a
 * flush queued after it is answered ({@code SharedConnectionTest} sends waves of events through reused arrays and
 * checks every byte). A jnats whose classes do not link with
 * this one raises a {@link LinkageError} at the first batch; the publisher then publishes event by event.
 */
public final class PubBatchMessage extends NatsPublishableMessage {
    private final byte[] wire;
    private final int restOffset;
    private final int restLength;

    /**
     * @param wire             protocol text: {@code PUB <subject> <size>\r\n<payload>\r\n}, repeated.
     * @param length           bytes of it used.
     * @param firstControlLine length of the first {@code PUB} line without its CRLF.
     */
    private PubBatchMessage(final byte[] wire, final int length, final int firstControlLine) {
        super(false);
        this.wire = wire;
        this.restOffset = firstControlLine + 2;
        this.restLength = length - firstControlLine - 4; // without the CRLFs the writer adds
        this.protocolBab = new ByteArrayBuilder(firstControlLine).append(wire, firstControlLine);
        this.controlLineLength = firstControlLine + 2;
        this.sizeInBytes = length;
    }

    /**
     * Dropped from jnats' outgoing queue when its writer stops (the connection was lost), as jnats drops its own
     * PINGs: the publisher sends every unconfirmed event again once the connection is back, so a batch jnats kept
     * and sent after the reconnect would only arrive twice, and ahead of the events before it that died with the
     * old socket.
     */
    @Override
    boolean isFilterOnStop() {
        return true;
    }

    /** The writer's hook for headers: here, the batch between the first control line's CRLF and the last CRLF. */
    @Override
    int copyNotEmptyHeaders(final int destPosition, final byte[] dest) {
        System.arraycopy(wire, restOffset, dest, destPosition, restLength);
        return restLength;
    }

    /**
     * @param connection a connection made by {@code Nats.connect}.
     * @return its current transport: a new object at every (re)connection (set before the connection reports
     *     itself connected), the same one until the next — unlike the reconnect count and the listener's events,
     *     which jnats updates after, or on another thread.
     */
    public static Object transport(final Connection connection) {
        return ((NatsConnection) connection).getDataPort();
    }

    /**
     * Queues a batch on a connection, like {@code publish} queues a message.
     *
     * @param connection       a connection made by {@code Nats.connect}.
     * @param wire             protocol text: {@code PUB <subject> <size>\r\n<payload>\r\n}, repeated; read later by
     *                         jnats' writer thread, so not written again by the caller before a flush queued after
     *                         it is answered (the writer copies queue items in order, each once, before it sends
     *                         the flush's PING).
     * @param length           bytes of it used.
     * @param firstControlLine length of the first {@code PUB} line without its CRLF.
     * @throws IllegalStateException when the connection is not connected (the batch is not queued), as
     *                               {@code publish} throws with no reconnect buffer.
     * @throws ClassCastException    when the connection is not jnats' own.
     * @throws LinkageError          when this jnats' internals differ from the ones this class was built against.
     */
    public static void queue(final Connection connection, final byte[] wire, final int length,
                             final int firstControlLine) {
        final NatsConnection c = (NatsConnection) connection;
        final Connection.Status status = c.getStatus();
        if (status != Connection.Status.CONNECTED) {
            throw new IllegalStateException("Connection is " + status);
        }
        c.queueOutgoing(new PubBatchMessage(wire, length, firstControlLine));
    }
}
