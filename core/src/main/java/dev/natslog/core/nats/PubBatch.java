package dev.natslog.core.nats;

import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LogLine;
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
 * <p>An event is encoded straight into the batch ({@link #add(byte[], JsonEventEncoder, LogLine)}): its {@code PUB}
 * line first, with room for the digits of the largest size the line could encode to, then the event; the size is
 * then written right-aligned in that room, spaces before it — NATS takes any run of whitespace as one field
 * delimiter, so {@code PUB logs 450} may read {@code PUB logs  450} (one byte more when the bound has one more digit
 * than the event: a 100-byte line's bound is ~1.2 KB, its event ~450 B).
 *
 * <p><b>Allocation:</b> none per event (its size is written as digits by hand); per batch, the exactly sized array
 * {@link #take} returns, which jnats' writer reads later and the garbage collector reclaims after. The working
 * array is reused; one grown for a large event is given up at the next {@link #take}.
 */
public final class PubBatch {
    /** At most 10 digits of size and CRLF after a {@link #pubPrefix}. */
    private static final int CONTROL_LINE_OVERHEAD = 10 + 2;

    private final int capacity;
    private byte[] wire;
    private int length;
    private int firstControlLine;
    private int events;
    /** Where the last event's bytes are, and its size; the batch's length before it (for {@link #removeLast}). */
    private int lastOffset;
    private int lastSize;
    private int lengthBefore;

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
     * Encodes a line's event straight into the batch.
     *
     * @param pub     {@link #pubPrefix} of the subject.
     * @param encoder the stream's encoder.
     * @param line    the line; read, not kept.
     * @return false, with nothing written, when the batch is not empty and might not have room for the event: hand
     *     the batch over, then add it to the empty one (which takes any event, growing for it).
     */
    public boolean add(final byte[] pub, final JsonEventEncoder encoder, final LogLine line) {
        final int bound = encoder.maxLength(line);
        if (!fits(pub, bound)) {
            return false;
        }
        final int digits = digits(bound);
        final int sizeAt = length + pub.length;
        final int offset = sizeAt + digits + 2;
        ensure(offset + bound + 2);
        System.arraycopy(pub, 0, wire, length, pub.length);
        final int end = encoder.encodeInto(line, wire, offset);
        writeSize(end - offset, wire, sizeAt, sizeAt + digits);
        appended(sizeAt + digits, offset, end);
        return true;
    }

    /**
     * Appends an event already made (one put back after a failed flush; callers check {@link #fits} first, and hand
     * the batch over when it does not).
     *
     * @param pub   {@link #pubPrefix} of the subject.
     * @param event the event, its readable bytes; not modified.
     */
    public void add(final byte[] pub, final ByteBuf event) {
        final int size = event.readableBytes();
        ensure(length + pub.length + CONTROL_LINE_OVERHEAD + size + 2);
        System.arraycopy(pub, 0, wire, length, pub.length);
        final int sizeAt = length + pub.length;
        final int sizeEnd = sizeAt + digits(size);
        writeSize(size, wire, sizeAt, sizeEnd);
        event.getBytes(event.readerIndex(), wire, sizeEnd + 2, size);
        appended(sizeEnd, sizeEnd + 2, sizeEnd + 2 + size);
    }

    private void ensure(final int needed) {
        if (needed > wire.length) {
            wire = Arrays.copyOf(wire, needed);
        }
    }

    /** Ends the control line at {@code controlLineEnd} and the event at {@code end}. */
    private void appended(final int controlLineEnd, final int offset, final int end) {
        final byte[] w = wire;
        w[controlLineEnd] = '\r';
        w[controlLineEnd + 1] = '\n';
        w[end] = '\r';
        w[end + 1] = '\n';
        if (0 == events) {
            firstControlLine = controlLineEnd;
        }
        lengthBefore = length;
        lastOffset = offset;
        lastSize = end - offset;
        length = end + 2;
        events++;
    }

    /** @return where the last event's bytes are in the batch (and in the array {@link #take} returns). */
    public int lastOffset() {
        return lastOffset;
    }

    /** @return the last event's size. */
    public int lastSize() {
        return lastSize;
    }

    /** Takes the last event out again (it will never be sent: over the server's {@code max_payload}). */
    void removeLast() {
        length = lengthBefore;
        events--;
    }

    private static int digits(final int value) {
        int digits = 1;
        for (int t = value; t >= 10; t /= 10) {
            digits++;
        }
        return digits;
    }

    /** @return {@code "PUB <subject> "}, what {@link #fits} and {@link #add} take for a subject (made once). */
    public static byte[] pubPrefix(final String subject) {
        return ("PUB " + subject + " ").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Writes a size in decimal right-aligned in {@code a[from, to)}, spaces before it (room for its digits). */
    private static void writeSize(final int size, final byte[] a, final int from, final int to) {
        int v = size;
        int p = to - 1;
        do {
            a[p--] = (byte) ('0' + v % 10);
            v /= 10;
        } while (0 != v);
        while (p >= from) {
            a[p--] = ' ';
        }
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
