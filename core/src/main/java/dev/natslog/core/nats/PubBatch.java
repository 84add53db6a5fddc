package dev.natslog.core.nats;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * Events written as NATS protocol text, back to back — {@code PUB <subject> <size>\r\n<event>\r\n} each — for
 * jnats' writer to send as they are ({@link io.nats.client.impl.PubBatchMessage}). The publisher thread's own;
 * not thread-safe. Public for the benchmarks ({@code HotPathBenchmark}).
 *
 * <p>A batch holds at most {@link #capacity} bytes (jnats' send buffer, so its writer sends one batch per socket
 * write and never grows that buffer), except that an empty batch takes any one event, growing for it.
 *
 * <p><b>Allocation:</b> none per event (the event is copied in, its size written as digits by hand); per batch,
 * the exactly sized array {@link #take} returns, which jnats' writer reads later and the garbage collector
 * reclaims after. The working array is reused; one grown for a large event is given up at the next {@link #take}.
 */
public final class PubBatch {
    /** At most 10 digits of size and CRLF after a {@link #pubPrefix}. */
    private static final int CONTROL_LINE_OVERHEAD = 10 + 2;

    private final int capacity;
    private byte[] wire;
    private int length;
    private int firstControlLine;
    private int events;

    /** @param capacity bytes a batch holds (at least one event of any size is always taken). */
    public PubBatch(final int capacity) {
        this.capacity = capacity;
        this.wire = new byte[capacity];
    }

    /**
     * @param pub {@link #pubPrefix} of the subject.
     * @return whether {@link #add} would take this event without passing the capacity (always when empty).
     */
    public boolean fits(final byte[] pub, final int size) {
        return 0 == events || length + pub.length + CONTROL_LINE_OVERHEAD + size + 2 <= capacity;
    }

    /**
     * Appends one event (callers check {@link #fits} first, and hand the batch over when it does not).
     *
     * @param pub   {@link #pubPrefix} of the subject.
     * @param event the event, its readable bytes; not modified.
     * @return the offset of the event's bytes in the batch (and in the array {@link #take} returns).
     */
    public int add(final byte[] pub, final ByteBuf event) {
        final int size = event.readableBytes();
        final int needed = length + pub.length + 12 + size + 2;
        if (needed > wire.length) {
            wire = Arrays.copyOf(wire, needed);
        }
        final byte[] w = wire;
        int p = length;
        System.arraycopy(pub, 0, w, p, pub.length);
        p = writeSize(size, w, p + pub.length);
        if (0 == events) {
            firstControlLine = p;
        }
        w[p] = '\r';
        w[p + 1] = '\n';
        p += 2;
        final int offset = p;
        if (event.hasArray()) { // the encoder's scratch: a plain copy, no bounds checks of the buffer's
            System.arraycopy(event.array(), event.arrayOffset() + event.readerIndex(), w, p, size);
        } else {
            event.getBytes(event.readerIndex(), w, p, size);
        }
        p += size;
        w[p] = '\r';
        w[p + 1] = '\n';
        length = p + 2;
        events++;
        return offset;
    }

    /** @return {@code "PUB <subject> "}, what {@link #fits} and {@link #add} take for a subject (made once). */
    public static byte[] pubPrefix(final String subject) {
        return ("PUB " + subject + " ").getBytes(java.nio.charset.StandardCharsets.UTF_8);
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

    public boolean isEmpty() {
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
    public byte[] take() {
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
