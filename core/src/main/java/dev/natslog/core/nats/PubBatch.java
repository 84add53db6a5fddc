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
 * <p>An event is encoded straight into the batch ({@link #add(byte[], JsonEventEncoder, LogLine)}) when the most
 * it could take fits: its {@code PUB} line first, with room for the digits of that bound, then the event; the size
 * is then written right-aligned in that room, spaces before it — NATS takes any run of whitespace as one field
 * delimiter, so {@code PUB logs 450} may read {@code PUB logs  450} (one byte more when the bound has one more digit
 * than the event: a 100-byte line's bound is ~1.2 KB, its event ~450 B). A longer line is encoded on its own first
 * and copied in.
 *
 * <p><b>Allocation:</b> none per event (its size is written as digits by hand; a long line's event is made in its
 * encoder's pooled scratch buffer, then copied in). A batch is handed over in its own array ({@link #take}: no
 * copy), which jnats' writer reads later and which holds the events until NATS confirms them; the owner then gives
 * it back ({@link #recycle}) and a later batch is written into it. So in a steady stream no array is allocated at
 * all: a new one only while fewer than enough are back (at most {@code spares} are kept, {@code capacity} bytes
 * each; {@link #dropSpares} lets them go when idle). An array grown for an event past the capacity is never reused.
 */
public final class PubBatch {
    /** At most 10 digits of size and CRLF after a {@link #pubPrefix}. */
    private static final int CONTROL_LINE_OVERHEAD = 10 + 2;

    private final int capacity;
    /** Arrays given back by {@link #recycle}, for the next batches; at most {@link #maxSpares}. */
    private final java.util.ArrayDeque<byte[]> spares = new java.util.ArrayDeque<>();
    private final int maxSpares;
    /** Batches handed over, and arrays made for the batches after them (for tests: reuse shows as fewer arrays). */
    private long taken;
    private long arraysMade;
    private byte[] wire;
    private int length;
    private int firstControlLine;
    private int events;
    /** Where the last event's bytes are, and its size; the batch's length before it (for {@link #removeLast}). */
    private int lastOffset;
    private int lastSize;
    private int lengthBefore;
    /** A long line's event that found no room — in its encoder's scratch buffer, untouched until that encoder's
     * next use — and its subject's prefix (by identity: its queue's); the next
     * {@link #add(byte[], JsonEventEncoder, LogLine)} with that prefix takes it. */
    private ByteBuf pending;
    private byte[] pendingPub;

    /**
     * @param capacity bytes a batch holds (at least one event of any size is always taken).
     * @param spares   most arrays given back by {@link #recycle} kept for later batches.
     */
    public PubBatch(final int capacity, final int spares) {
        this.capacity = capacity;
        this.maxSpares = spares;
        this.wire = new byte[capacity];
    }

    /**
     * @param pub {@link #pubPrefix} of the subject.
     * @return whether {@link #add} would take this event without passing the capacity (always when empty).
     */
    public boolean fits(final byte[] pub, final int size) {
        return 0 == events || hasRoom(pub, size);
    }

    /** @return whether an event of this size and its {@code PUB} line fit in what is left of the capacity. */
    private boolean hasRoom(final byte[] pub, final int size) {
        return length + pub.length + CONTROL_LINE_OVERHEAD + size + 2 <= capacity;
    }

    /**
     * Adds a line's event: encoded straight into the batch when the most it could take fits (short lines: the usual
     * case), else encoded on its own first and copied in (a long line's bound — every byte escaped at its longest —
     * would hand over half-empty batches, or grow one, for an event that fits).
     *
     * @param pub     {@link #pubPrefix} of the subject.
     * @param encoder the stream's encoder.
     * @param line    the line; read, not kept.
     * @return false, with nothing written, when the batch is not empty and has no room for the event: hand the
     *     batch over, then add the same line to the empty one (which takes any event, growing for one past its
     *     capacity; a long line's event made by this call is kept for that one), or {@link #clear} the batch.
     */
    public boolean add(final byte[] pub, final JsonEventEncoder encoder, final LogLine line) {
        ByteBuf event = pendingPub == pub ? pending : null; // the same queue's line, as the contract says
        pending = null;
        pendingPub = null;
        if (null == event) {
            final int bound = encoder.maxLength(line);
            if (hasRoom(pub, bound)) {
                addInPlace(pub, encoder, line, bound);
                return true;
            }
            if (!fits(pub, encoder.minLength(line))) {
                return false; // it cannot fit: no need to encode it to know
            }
            event = encoder.encodeInPlace(line); // in the encoder's scratch buffer: no array of its own
        }
        if (!fits(pub, event.readableBytes())) {
            pending = event; // kept for the call that follows the hand-over: it is not encoded twice
            pendingPub = pub;
            return false;
        }
        add(pub, event);
        encoder.releaseLargeScratch();
        return true;
    }

    /** Encodes the event after its {@code PUB} line, its size written after it in room for its bound's digits. */
    private void addInPlace(final byte[] pub, final JsonEventEncoder encoder, final LogLine line, final int bound) {
        final int digits = digits(bound);
        final int sizeAt = length + pub.length;
        final int offset = sizeAt + digits + 2;
        System.arraycopy(pub, 0, wire, length, pub.length);
        final int end = encoder.encodeInto(line, wire, offset);
        writeSize(end - offset, wire, sizeAt, sizeAt + digits);
        appended(sizeAt + digits, offset, end);
    }

    /**
     * Appends an event already made (one put back after a failed flush, or a long line's; callers check
     * {@link #fits} first, and hand the batch over when it does not).
     *
     * @param pub   {@link #pubPrefix} of the subject.
     * @param event the event, its readable bytes; not modified.
     */
    public void add(final byte[] pub, final ByteBuf event) {
        final int size = event.readableBytes();
        final int offset = controlLine(pub, size);
        event.getBytes(event.readerIndex(), wire, offset, size);
        appended(offset - 2, offset, offset + size);
    }

    /** Writes the {@code PUB} line of an event of this size (growing the batch if needed); @return where it goes. */
    private int controlLine(final byte[] pub, final int size) {
        final int sizeAt = length + pub.length;
        final int sizeEnd = sizeAt + digits(size);
        ensure(sizeEnd + 2 + size + 2);
        System.arraycopy(pub, 0, wire, length, pub.length);
        writeSize(size, wire, sizeAt, sizeEnd);
        return sizeEnd + 2;
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

    /** @return the decimal digits of a size (comparisons, not a chain of divisions: it runs for every event). */
    static int digits(final int value) {
        if (value < 10_000) {
            return value < 100 ? (value < 10 ? 1 : 2) : (value < 1_000 ? 3 : 4);
        }
        if (value < 10_000_000) {
            return value < 100_000 ? 5 : (value < 1_000_000 ? 6 : 7);
        }
        return value < 100_000_000 ? 8 : (value < 1_000_000_000 ? 9 : 10);
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

    /**
     * Hands the batch over in its array, and starts an empty one in another: a spare given back by
     * {@link #recycle}, or a new array.
     *
     * @return the array; the batch's protocol text is its first {@link #length} bytes (as read before this call).
     *     The caller's from now on: never written here again unless it comes back through {@link #recycle}.
     */
    public byte[] take() {
        final byte[] out = wire;
        taken++;
        if (spares.isEmpty()) {
            wire = new byte[capacity];
            arraysMade++;
        } else {
            wire = spares.pop();
        }
        empty();
        return out;
    }

    /**
     * Gives back an array {@link #take} handed over, for a later batch to be written into: only once nothing will
     * read it again — jnats' writer has copied it (a flush that it answered came after it) and its events are
     * confirmed. An array grown past the capacity, or one beyond the spares kept, is left to the garbage collector.
     */
    public void recycle(final byte[] array) {
        if (array.length == capacity && spares.size() < maxSpares) {
            spares.push(array);
        }
    }

    /** @return batches handed over by {@link #take}. */
    long taken() {
        return taken;
    }

    /** @return arrays {@link #take} made for the next batch, finding no spare. */
    long arraysMade() {
        return arraysMade;
    }

    /** Lets the spare arrays go (when idle: a burst's worth of them is not kept for the next one). */
    public void dropSpares() {
        spares.clear();
    }

    /** Empties the batch, and forgets an event kept by {@link #add(byte[], JsonEventEncoder, LogLine)}. */
    void clear() {
        empty();
        if (wire.length > capacity) {
            wire = new byte[capacity];
        }
        pending = null;
        pendingPub = null;
    }

    private void empty() {
        length = 0;
        events = 0;
        firstControlLine = 0;
    }
}
