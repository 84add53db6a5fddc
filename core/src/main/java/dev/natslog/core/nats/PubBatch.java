package dev.natslog.core.nats;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * Events written as NATS protocol text, back to back — {@code PUB <subject> <size>\r\n<event>\r\n} each — for
 * jnats' writer to send as they are ({@link io.nats.client.impl.PubBatchMessage}). The publisher thread's own;
 * not thread-safe.
 *
 * <p>A batch holds at most {@link #capacity} bytes (jnats' send buffer, so its writer sends one batch per socket
 * write and never grows that buffer), except that an empty batch takes any one event, growing for it.
 *
 * <p><b>Allocation:</b> none per event (the event is copied in, its size written as digits by hand); per batch,
 * the exactly sized array {@link #take} returns, which jnats' writer reads later and the garbage collector
 * reclaims after. The working array is reused; one grown for a large event is given up at the next {@link #take}.
 */
final class PubBatch {
    private static final byte[] PUB = {'P', 'U', 'B', ' '};
    /** {@code "PUB " + " " + CRLF} and at most 10 digits of size, besides the subject. */
    private static final int CONTROL_LINE_OVERHEAD = PUB.length + 1 + 10 + 2;

    private final int capacity;
    private byte[] wire;
    private int length;
    private int firstControlLine;
    private int events;

    /** @param capacity bytes a batch holds (at least one event of any size is always taken). */
    PubBatch(final int capacity) {
        this.capacity = capacity;
        this.wire = new byte[capacity];
    }

    /** @return whether {@link #add} would take this event without passing the capacity (always when empty). */
    boolean fits(final byte[] subject, final int size) {
        return 0 == events || length + CONTROL_LINE_OVERHEAD + subject.length + size + 2 <= capacity;
    }

    /**
     * Appends one event (callers check {@link #fits} first, and hand the batch over when it does not).
     *
     * @param subject the subject, UTF-8.
     * @param event   the event, its readable bytes; not modified.
     * @return the offset of the event's bytes in the batch (and in the array {@link #take} returns).
     */
    int add(final byte[] subject, final ByteBuf event) {
        final int size = event.readableBytes();
        final int needed = length + CONTROL_LINE_OVERHEAD + subject.length + size + 2;
        if (needed > wire.length) {
            wire = Arrays.copyOf(wire, needed);
        }
        final byte[] w = wire;
        int p = length;
        System.arraycopy(PUB, 0, w, p, PUB.length);
        p += PUB.length;
        System.arraycopy(subject, 0, w, p, subject.length);
        p += subject.length;
        w[p++] = ' ';
        p = writeSize(size, w, p);
        if (0 == events) {
            firstControlLine = p;
        }
        w[p++] = '\r';
        w[p++] = '\n';
        final int offset = p;
        event.getBytes(event.readerIndex(), w, p, size);
        p += size;
        w[p++] = '\r';
        w[p++] = '\n';
        length = p;
        events++;
        return offset;
    }

    private static int writeSize(final int size, final byte[] a, final int pos) {
        int digits = 1;
        for (int t = size; t >= 10; t /= 10) {
            digits++;
        }
        int v = size;
        for (int i = pos + digits - 1; i >= pos; i--) {
            a[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return pos + digits;
    }

    boolean isEmpty() {
        return 0 == events;
    }

    /** @return bytes of protocol text in the batch. */
    int length() {
        return length;
    }

    /** @return the length of the first {@code PUB} line, without its CRLF. */
    int firstControlLine() {
        return firstControlLine;
    }

    /** @return the working array (valid up to {@link #length}, until the next {@link #take} or {@link #clear}). */
    byte[] wire() {
        return wire;
    }

    /** @return the batch's protocol text in an array of its own, exactly sized; the batch is empty after. */
    byte[] take() {
        final byte[] out = Arrays.copyOf(wire, length);
        clear();
        return out;
    }

    /** Empties the batch. */
    void clear() {
        length = 0;
        events = 0;
        firstControlLine = 0;
        if (wire.length > capacity) {
            wire = new byte[capacity];
        }
    }
}
