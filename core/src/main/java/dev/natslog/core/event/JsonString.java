package dev.natslog.core.event;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * Writes bytes as the contents of a JSON string, straight into a {@code byte[]}.
 *
 * <ul>
 *   <li>{@code "} and {@code \} are escaped; so is every control character below 0x20 ({@code \n \r \t \b \f}
 *   short, the rest as {@code \}{@code u00XX});</li>
 *   <li>valid UTF-8 (up to 4-byte sequences) passes through untouched;</li>
 *   <li>invalid UTF-8 is replaced by U+FFFD exactly as the JDK's decoder ({@code new String(bytes, UTF_8)}) does:
 *   one per maximal invalid subpart (the Unicode-recommended practice), and one per encoded surrogate — so the
 *   output is always valid UTF-8 JSON.</li>
 * </ul>
 *
 * <p><b>Allocation:</b> none. The fast path copies the source in one bulk {@code getBytes} and then only
 * checks it in place; at the first byte that needs work, the unchecked rest is moved past the worst-case output
 * and rewritten from there. Worst case output is {@link #MAX_EXPANSION} bytes per input byte.
 */
public final class JsonString {
    /** Most bytes written for one input byte ({@code \}{@code u001f}). */
    public static final int MAX_EXPANSION = 6;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte REPLACEMENT_0 = (byte) 0xEF;
    private static final byte REPLACEMENT_1 = (byte) 0xBF;
    private static final byte REPLACEMENT_2 = (byte) 0xBD;

    private static final java.lang.invoke.VarHandle LONGS =
        java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    /** Runs of plain bytes shorter than this are copied byte by byte in {@link #rewrite}, longer ones in bulk. */
    private static final int SHORT_RUN = 16;
    /**
     * For each ASCII byte, the second byte of its escape: {@code "} {@code \} {@code n r t b f} for the short ones,
     * {@code u} for the other control characters (written as backslash, u, 0, 0 and two hex digits), 0 for a byte
     * written as it is.
     */
    private static final byte[] ESCAPE = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPE[c] = 'u';
        }
        ESCAPE['\n'] = 'n';
        ESCAPE['\r'] = 'r';
        ESCAPE['\t'] = 't';
        ESCAPE['\b'] = 'b';
        ESCAPE['\f'] = 'f';
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
    }

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private JsonString() {
    }

    /**
     * @return true when none of the eight bytes is non-ASCII, a control character, {@code "} or {@code \} (SWAR: each
     *     test sets a byte's high bit where it matches; valid only for bytes below 0x80, which the first test
     *     guarantees).
     */
    static boolean isPlainAscii(final long x) {
        final long below20 = x - 0x2020202020202020L; // high bit set where a byte < 0x20
        final long quote = x ^ 0x2222222222222222L; // zero byte where '"'
        final long backslash = x ^ 0x5C5C5C5C5C5C5C5CL; // zero byte where '\\'
        final long zeroQuote = (quote - ONES) & ~quote;
        final long zeroBackslash = (backslash - ONES) & ~backslash;
        return ((x | below20 | zeroQuote | zeroBackslash) & HIGHS) == 0;
    }

    /**
     * @param length of the input.
     * @return bytes that {@link #write} needs free in {@code dst} from {@code pos}: the worst-case output plus
     * the room used to hold unchecked input.
     */
    public static int requiredCapacity(final int length) {
        return (MAX_EXPANSION + 1) * length;
    }

    /**
     * Writes the escaped contents of a JSON string (without the quotes).
     *
     * @param src    the bytes; not modified.
     * @param offset of the first byte in {@code src}.
     * @param length of the input.
     * @param dst    destination; {@link #requiredCapacity(int)} bytes from {@code pos} may be touched.
     * @param pos    where to write.
     * @return the position after the last byte written.
     */
    public static int write(final ByteBuf src, final int offset, final int length, final byte[] dst, final int pos) {
        src.getBytes(offset, dst, pos, length);
        final int end = pos + length;
        int i = pos;
        // eight bytes at a time while they are plain ASCII that needs no escape (most log text)
        while (i + Long.BYTES <= end && isPlainAscii((long) LONGS.get(dst, i))) {
            i += Long.BYTES;
        }
        while (i < end) {
            final byte b = dst[i];
            if (b >= 0x20 && b != '"' && b != '\\') {
                i++;
            } else if (b < 0) {
                final int n = validSequenceLength(dst, i, end);
                if (n <= 0) {
                    return rewrite(dst, i, end, pos + MAX_EXPANSION * length);
                }
                i += n;
            } else {
                return rewrite(dst, i, end, pos + MAX_EXPANSION * length);
            }
        }
        return end;
    }

    /**
     * Writes the escaped contents of a JSON string from an array.
     *
     * @return the position after the last byte written.
     * @see #write(ByteBuf, int, int, byte[], int)
     */
    public static int write(final byte[] src, final int offset, final int length, final byte[] dst, final int pos) {
        System.arraycopy(src, offset, dst, pos, length);
        return rewrite(dst, pos, pos + length, pos + MAX_EXPANSION * length);
    }

    /**
     * Escapes {@code dst[from, end)} in place: moves it to {@code spare} (beyond the worst-case output), then
     * writes the escaped bytes back from {@code from}.
     */
    private static int rewrite(final byte[] dst, final int from, final int end, final int spare) {
        final int n = end - from;
        System.arraycopy(dst, from, dst, spare, n);
        final int inEnd = spare + n;
        int in = spare;
        int out = from;
        while (in < inEnd) {
            final byte b = dst[in];
            if (b < 0) {
                final int len = validSequenceLength(dst, in, inEnd);
                if (len > 0) {
                    for (int k = 0; k < len; k++) {
                        dst[out++] = dst[in++];
                    }
                } else {
                    dst[out++] = REPLACEMENT_0;
                    dst[out++] = REPLACEMENT_1;
                    dst[out++] = REPLACEMENT_2;
                    in += -len;
                }
                continue;
            }
            final byte escape = ESCAPE[b];
            if (0 != escape) { // the kind of escape comes from the table, not from a branch per kind
                dst[out] = '\\';
                dst[out + 1] = escape;
                if ('u' == escape) {
                    dst[out + 2] = '0';
                    dst[out + 3] = '0';
                    dst[out + 4] = HEX[b >> 4];
                    dst[out + 5] = HEX[b & 0xF];
                    out += 6;
                } else {
                    out += 2;
                }
                in++;
                continue;
            }
            // a run of bytes that need nothing: short ones byte by byte, long ones in bulk
            int run = in + 1;
            while (run < inEnd && dst[run] >= 0 && 0 == ESCAPE[dst[run]]) {
                run++;
            }
            if (run - in < SHORT_RUN) {
                while (in < run) {
                    dst[out++] = dst[in++];
                }
            } else {
                System.arraycopy(dst, in, dst, out, run - in);
                out += run - in;
                in = run;
            }
        }
        return out;
    }

    /**
     * Checks the UTF-8 sequence that starts with a byte >= 0x80 at {@code i}.
     *
     * @return its length (2–4) if it is valid; otherwise minus the length of its maximal invalid subpart (the
     * bytes to replace by one U+FFFD, at least 1).
     */
    static int validSequenceLength(final byte[] a, final int i, final int end) {
        final int b0 = a[i] & 0xFF;
        final int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) {
                lo = 0xA0; // no overlong forms
            }
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) {
                lo = 0x90; // no overlong forms
            } else if (b0 == 0xF4) {
                hi = 0x8F; // nothing above U+10FFFF
            }
        } else {
            return -1; // a continuation byte without a lead, C0, C1, F5..FF
        }
        int j = i + 1;
        for (int k = 0; k < need; k++, j++) {
            if (j >= end) {
                return -(j - i);
            }
            final int b = a[j] & 0xFF;
            if (b < lo || b > hi) {
                return -(j - i);
            }
            lo = 0x80;
            hi = 0xBF;
        }
        if (b0 == 0xED && (a[i + 1] & 0xFF) >= 0xA0) {
            return -3; // an encoded surrogate: one U+FFFD for all three bytes, as the JDK's decoder does
        }
        return need + 1;
    }
}
