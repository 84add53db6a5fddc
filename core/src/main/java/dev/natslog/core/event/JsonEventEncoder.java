package dev.natslog.core.event;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * Writes one JSON event per {@link LogLine}, in the message format of the 2016 NATS driver:
 * <pre>
 * {"container_id":"…","container_name":"web","image_id":"sha256:…","image_name":"nginx:1.27","hostname":"h1",
 *  "tag":"0123456789ab",&lt;extra attributes&gt;,"time":"2026-11-23T18:30:25.123456789Z","source":"stdout","text":"…"}
 * </pre>
 * A piece of a longer line (see {@link LineAssembler}) also carries
 * {@code "partial_message":true,"partial_id":"…","partial_ordinal":N,"partial_last":false}.
 *
 * <p>The part that is the same for every line of a container (everything up to {@code "time"}) is rendered once,
 * by {@link #renderPrefix(Map)}, and copied in front of each event.
 *
 * <p><b>Allocation:</b> the event is written into one pooled heap buffer owned by this encoder, reused for every
 * line, through its backing array. {@link #encode(LogLine)} then makes exactly one right-sized {@code byte[]}
 * (jnats keeps the array it is given until its writer sends it, so a reused array is not allowed there).
 * {@link #encodeInPlace(LogLine)} makes none. Not thread-safe: one per stream.
 */
public final class JsonEventEncoder implements AutoCloseable {
    /** Keys written for every line; extra attributes with these names are left out of the prefix. */
    public static final Set<String> PER_LINE_KEYS =
        Set.of("time", "source", "text", "partial_message", "partial_id", "partial_ordinal", "partial_last");

    private static final byte[] TIME = ascii("\"time\":\"");
    private static final byte[] SOURCE = ascii("\",\"source\":\"");
    private static final byte[] STDOUT_TEXT = ascii("\",\"source\":\"stdout\",\"text\":\"");
    private static final byte[] STDERR_TEXT = ascii("\",\"source\":\"stderr\",\"text\":\"");
    private static final byte[] TEXT = ascii("\",\"text\":\"");
    private static final byte[] PARTIAL_ID = ascii("\",\"partial_message\":true,\"partial_id\":\"");
    private static final byte[] PARTIAL_ORDINAL = ascii("\",\"partial_ordinal\":");
    private static final byte[] PARTIAL_LAST_TRUE = ascii(",\"partial_last\":true}");
    private static final byte[] PARTIAL_LAST_FALSE = ascii(",\"partial_last\":false}");
    private static final int FIXED_BYTES = TIME.length + Rfc3339Nano.MAX_LENGTH + STDOUT_TEXT.length + SOURCE.length
        + TEXT.length + PARTIAL_ID.length + PARTIAL_ORDINAL.length + 11 + PARTIAL_LAST_FALSE.length + 8;
    /** A scratch buffer grown past this is given back after the event, so one huge line does not pin memory. */
    private static final int KEEP_CAPACITY = 256 * 1024;

    private final byte[] prefix;
    private final ByteBufAllocator allocator;
    private final Rfc3339Nano time = new Rfc3339Nano();
    private ByteBuf scratch;

    /**
     * @param prefix    the rendered per-container part, from {@link #renderPrefix(Map)}.
     * @param allocator gives the pooled heap scratch buffer.
     */
    public JsonEventEncoder(final byte[] prefix, final ByteBufAllocator allocator) {
        this.prefix = prefix.clone();
        this.allocator = allocator;
    }

    /**
     * Renders the per-container part of every event: {@code {"k":"v",…,} } — an open object ending in a comma.
     * Keys in {@link #PER_LINE_KEYS} are left out: {@code time}, {@code source} and {@code text} always win.
     *
     * @param fields in order; values are written as JSON strings.
     * @return the UTF-8 bytes.
     */
    public static byte[] renderPrefix(final Map<String, String> fields) {
        int capacity = 1;
        for (final Map.Entry<String, String> f : fields.entrySet()) {
            capacity += 6 + JsonString.requiredCapacity(utf8Length(f.getKey()))
                + JsonString.requiredCapacity(utf8Length(f.getValue()));
        }
        final byte[] out = new byte[capacity];
        int p = 0;
        out[p++] = '{';
        for (final Map.Entry<String, String> f : fields.entrySet()) {
            if (PER_LINE_KEYS.contains(f.getKey())) {
                continue;
            }
            p = writeString(f.getKey(), out, p);
            out[p++] = ':';
            p = writeString(f.getValue(), out, p);
            out[p++] = ',';
        }
        return Arrays.copyOf(out, p);
    }

    /**
     * Encodes one event into a new, exactly sized array: the only allocation per line.
     *
     * @param line the line; read, not kept.
     * @return the event's UTF-8 JSON bytes.
     */
    public byte[] encode(final LogLine line) {
        final ByteBuf buf = encodeInPlace(line);
        final byte[] event = Arrays.copyOfRange(buf.array(), buf.arrayOffset(), buf.arrayOffset() + buf.writerIndex());
        releaseLargeScratch();
        return event;
    }

    /**
     * Encodes one event into this encoder's scratch buffer, without allocating.
     *
     * @param line the line; read, not kept.
     * @return the scratch buffer holding the event from index 0 to its writer index; owned by this encoder and
     * overwritten by the next call.
     */
    public ByteBuf encodeInPlace(final LogLine line) {
        final int needed = maxLength(line);
        ByteBuf buf = scratch;
        if (null == buf) {
            buf = scratch = allocator.heapBuffer(Math.max(needed, 1024));
        } else if (buf.capacity() < needed) {
            buf.capacity(needed);
        }
        final int base = buf.arrayOffset();
        buf.setIndex(0, encodeInto(line, buf.array(), base) - base);
        return buf;
    }

    /** @return fewer bytes than any event of this line takes: its prefix and its text, unescaped. */
    public int minLength(final LogLine line) {
        return prefix.length + line.textLength();
    }

    /** @return the most bytes {@link #encodeInto} writes for this line (every byte escaped at its longest). */
    public int maxLength(final LogLine line) {
        return prefix.length + FIXED_BYTES + JsonString.requiredCapacity(line.sourceLength())
            + JsonString.requiredCapacity(line.textLength())
            + (line.partial() ? JsonString.requiredCapacity(line.partialIdLength()) : 0);
    }

    /**
     * Encodes one event into an array the caller owns, without allocating.
     *
     * @param line the line; read, not kept.
     * @param a    where the event goes: {@link #maxLength} bytes of room from {@code pos}.
     * @param pos  where it starts.
     * @return the index after its last byte.
     */
    public int encodeInto(final LogLine line, final byte[] a, final int pos) {
        int p = pos;
        System.arraycopy(prefix, 0, a, p, prefix.length);
        p += prefix.length;
        System.arraycopy(TIME, 0, a, p, TIME.length);
        p = time.write(line.timeNano(), a, p + TIME.length);
        p = writeSource(line, a, p);
        p = JsonString.write(line.text(), line.textOffset(), line.textLength(), a, p);
        if (line.partial()) {
            System.arraycopy(PARTIAL_ID, 0, a, p, PARTIAL_ID.length);
            p = JsonString.write(line.partialId(), line.partialIdOffset(), line.partialIdLength(), a,
                p + PARTIAL_ID.length);
            System.arraycopy(PARTIAL_ORDINAL, 0, a, p, PARTIAL_ORDINAL.length);
            p = writeInt(line.partialOrdinal(), a, p + PARTIAL_ORDINAL.length);
            final byte[] last = line.partialLast() ? PARTIAL_LAST_TRUE : PARTIAL_LAST_FALSE;
            System.arraycopy(last, 0, a, p, last.length);
            p += last.length;
        } else {
            a[p++] = '"';
            a[p++] = '}';
        }
        return p;
    }

    /** Releases the scratch buffer. Idempotent. */
    @Override
    public void close() {
        if (null != scratch) {
            scratch.release();
            scratch = null;
        }
    }

    /**
     * Gives the scratch buffer back if one long line grew it past 256 KiB (its bound is 7 times the line), so that
     * line does not pin memory; for callers of {@link #encodeInPlace} once they are done with the event.
     */
    public void releaseLargeScratch() {
        if (null != scratch && scratch.capacity() > KEEP_CAPACITY) {
            scratch.release();
            scratch = null;
        }
    }

    private static int writeSource(final LogLine line, final byte[] a, final int pos) {
        final ByteBuf src = line.source();
        final int off = line.sourceOffset();
        if (6 == line.sourceLength() && src.getInt(off) == 0x7374646F /* "stdo" */
            && src.getShort(off + 4) == 0x7574 /* "ut" */) {
            System.arraycopy(STDOUT_TEXT, 0, a, pos, STDOUT_TEXT.length);
            return pos + STDOUT_TEXT.length;
        }
        if (6 == line.sourceLength() && src.getInt(off) == 0x73746465 /* "stde" */
            && src.getShort(off + 4) == 0x7272 /* "rr" */) {
            System.arraycopy(STDERR_TEXT, 0, a, pos, STDERR_TEXT.length);
            return pos + STDERR_TEXT.length;
        }
        System.arraycopy(SOURCE, 0, a, pos, SOURCE.length);
        int p = JsonString.write(src, off, line.sourceLength(), a, pos + SOURCE.length);
        System.arraycopy(TEXT, 0, a, p, TEXT.length);
        return p + TEXT.length;
    }

    /** Writes a decimal int; returns the position after it. */
    static int writeInt(final int value, final byte[] a, final int pos) {
        int p = pos;
        long v = value;
        if (v < 0) {
            a[p++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        for (int i = digits - 1; i >= 0; i--) {
            a[p + i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return p + digits;
    }

    private static int writeString(final String s, final byte[] out, final int pos) {
        final byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out[pos] = '"';
        final int p = JsonString.write(utf8, 0, utf8.length, out, pos + 1);
        out[p] = '"';
        return p + 1;
    }

    private static int utf8Length(final String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static byte[] ascii(final String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
