package dev.natslog.core.event;

import io.netty.buffer.ByteBuf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

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
 * <p><b>How:</b> the source is copied in one bulk {@code getBytes} and then checked in place — eight bytes at a
 * time while they are plain ASCII, otherwise the word already loaded through a shift-based UTF-8 automaton two
 * bytes at a time ({@link #VALIDATE_PAIRS}: one table load and one shift per two bytes, no branch per kind of
 * character; taking the bytes from the word rather than loading each again made long UTF-8 text 25 % faster, and
 * two per step rather than one 35-40 % faster again at 1 and 16 KiB). Each word is tested for
 * plain ASCII before the automaton's state is (in multi-byte text the state between words is a coin toss, known
 * late), and dense multi-byte text — four such words in a row — goes through the automaton 64 bytes at a time with
 * one test per block (UTF-8 lines 6-24 % faster; after one accented letter in 40 the text stays word by word,
 * where blocks were slower). Text that needs nothing (most log lines, and valid UTF-8) is done then. At the first
 * block with a byte to escape or an invalid sequence, the unchecked rest is moved past the worst-case output and
 * rewritten from there: each byte stores its whole output — itself, or its escape — as one 8-byte word from
 * {@link #EMIT} and advances by the length kept in that word's top byte, so escape-heavy text costs no
 * unpredictable branch either. An 8-byte block of ASCII
 * is rewritten from the word already loaded, without the automaton (1.5x faster on escape-heavy text than byte by
 * byte; after four such blocks in a row the next are not tested for plain ASCII first, until one comes out plain:
 * escape-heavy 1 and 16 KiB lines 17-19 % faster to encode), and a word of valid multi-byte characters with nothing
 * to escape is copied whole (JSON logs in other scripts 30 % faster at 16 KiB); elsewhere the automaton runs
 * alongside, and only an invalid sequence leaves the straight path.
 *
 * <p><b>Allocation:</b> none (the tables are made once, at class initialization: {@link #VALIDATE_PAIRS} is
 * 512 KiB and takes ~6 ms). Worst case output is {@link #MAX_EXPANSION} bytes per input byte; the 8-byte stores may
 * write up to {@link Long#BYTES} bytes of garbage past the returned end, inside {@link #requiredCapacity(int)}.
 */
public final class JsonString {
    /** Most bytes written for one input byte ({@code \}{@code u001f}). */
    public static final int MAX_EXPANSION = 6;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /*
     * The UTF-8 automaton, shift-based: each state is a multiple of 6, and the next state after byte b is
     * (TABLE[b] >>> state) & 63. The checking loop leaves out the "& 63": a long shift uses only the low 6 bits of
     * its count, so the chain from byte to byte is one shift, and the state is masked once per block (20 % faster on
     * long UTF-8; in the rewriting loop, which tests the state after every byte, masking once is faster). Two
     * chains at once, over the two halves of a long rest, measured 1.5-1.9x slower than one; one chain of steps over
     * two bytes each (VALIDATE_PAIRS, below) 35-40 % faster. The steps over a word are written out in each loop that
     * takes them: one shared helper method measured 20-30 % slower on 100 B and 1 KiB UTF-8 lines. ERROR is
     * absorbing, so a block of bytes needs one test at its end.
     */
    private static final int ACCEPT = 0;
    private static final int ERROR = 6;
    /** Waiting for 1, 2 or 3 continuation bytes (0x80..0xBF). */
    private static final int TAIL1 = 12;
    private static final int TAIL2 = 18;
    private static final int TAIL3 = 24;
    /** After E0 (next A0..BF: no overlong form), ED (next 80..9F: no surrogate), F0 (90..BF), F4 (80..8F). */
    private static final int AFTER_E0 = 30;
    private static final int AFTER_ED = 36;
    private static final int AFTER_F0 = 42;
    private static final int AFTER_F4 = 48;
    private static final int[] STATES = {ACCEPT, ERROR, TAIL1, TAIL2, TAIL3, AFTER_E0, AFTER_ED, AFTER_F0, AFTER_F4};

    /** The automaton for rewriting: ASCII that needs an escape is fine (EMIT escapes it). */
    private static final long[] UTF8 = new long[256];
    /** The automaton for checking in place: ASCII that needs an escape is an error, like invalid UTF-8. */
    private static final long[] VALIDATE = new long[256];
    /**
     * For each byte, its output as a little-endian word — the byte itself, or its escape ({@code \"}, {@code \\},
     * {@code \n} …, {@code \}{@code u00XX}) — with the output's length in the top byte.
     */
    private static final long[] EMIT = new long[256];

    static {
        for (int b = 0; b < 256; b++) {
            for (final int state : STATES) {
                UTF8[b] |= (long) next(state, b) << state;
            }
            VALIDATE[b] = UTF8[b];
            final byte[] out = escape(b);
            if (out.length > 1) {
                VALIDATE[b] = (long) ERROR << ACCEPT | (VALIDATE[b] & ~63L);
            }
            long word = (long) out.length << 56;
            for (int k = 0; k < out.length; k++) {
                word |= (long) (out[k] & 0xFF) << (8 * k);
            }
            EMIT[b] = word;
        }
    }

    /**
     * {@link #VALIDATE} for two bytes at once: entry {@code b0 | b1 << 8} (the order of a little-endian word's bytes)
     * is the automaton's step over {@code b0} then {@code b1}, in the same shift-based form — half the chained
     * shifts and table loads over multi-byte text. 512 KiB; the rows that text of one script touches are few.
     */
    private static final long[] VALIDATE_PAIRS = new long[1 << 16];

    static {
        for (int b0 = 0; b0 < 256; b0++) {
            final long first = VALIDATE[b0];
            for (int b1 = 0; b1 < 256; b1++) {
                final long second = VALIDATE[b1];
                long pair = 0;
                for (final int state : STATES) {
                    pair |= (second >>> ((first >>> state) & 63) & 63) << state;
                }
                VALIDATE_PAIRS[b0 | b1 << 8] = pair;
            }
        }
    }

    private static int next(final int state, final int b) {
        final boolean continuation = b >= 0x80 && b <= 0xBF;
        return switch (state) {
            case ACCEPT -> {
                if (b < 0x80) {
                    yield ACCEPT;
                } else if (b >= 0xC2 && b <= 0xDF) {
                    yield TAIL1;
                } else if (b == 0xE0) {
                    yield AFTER_E0;
                } else if (b == 0xED) {
                    yield AFTER_ED;
                } else if (b >= 0xE1 && b <= 0xEF) {
                    yield TAIL2;
                } else if (b == 0xF0) {
                    yield AFTER_F0;
                } else if (b == 0xF4) {
                    yield AFTER_F4;
                } else if (b >= 0xF1 && b <= 0xF3) {
                    yield TAIL3;
                }
                yield ERROR; // a continuation byte without a lead, C0, C1, F5..FF
            }
            case TAIL1 -> continuation ? ACCEPT : ERROR;
            case TAIL2 -> continuation ? TAIL1 : ERROR;
            case TAIL3 -> continuation ? TAIL2 : ERROR;
            case AFTER_E0 -> b >= 0xA0 && b <= 0xBF ? TAIL1 : ERROR;
            case AFTER_ED -> b >= 0x80 && b <= 0x9F ? TAIL1 : ERROR;
            case AFTER_F0 -> b >= 0x90 && b <= 0xBF ? TAIL2 : ERROR;
            case AFTER_F4 -> b >= 0x80 && b <= 0x8F ? TAIL2 : ERROR;
            default -> ERROR;
        };
    }

    private static byte[] escape(final int b) {
        return switch (b) {
            case '"' -> new byte[] {'\\', '"'};
            case '\\' -> new byte[] {'\\', '\\'};
            case '\n' -> new byte[] {'\\', 'n'};
            case '\r' -> new byte[] {'\\', 'r'};
            case '\t' -> new byte[] {'\\', 't'};
            case '\b' -> new byte[] {'\\', 'b'};
            case '\f' -> new byte[] {'\\', 'f'};
            default -> b < 0x20
                ? new byte[] {'\\', 'u', '0', '0', (byte) Character.forDigit(b >> 4, 16), (byte) Character.forDigit(b & 0xF, 16)}
                : new byte[] {(byte) b};
        };
    }

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    /** Words in a row with bytes to check after which the text counts as dense non-ASCII, checked in blocks. */
    private static final int DENSE_WORDS = 4;
    /**
     * Words in a row with bytes to escape after which the rewrite stops testing words for plain ASCII (each is
     * written byte by byte, as one with escapes would be) until one comes out plain.
     */
    private static final int ESCAPED_WORDS = 4;
    /** A block of dense non-ASCII text: eight words, one test of the automaton's outcome. */
    private static final int BLOCK_BYTES = 8 * Long.BYTES;

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
     * @return bytes that {@link #write} needs free in {@code dst} from {@code pos}: the worst-case output, the
     * room used to hold unchecked input, and one word of slack for the 8-byte stores.
     */
    public static int requiredCapacity(final int length) {
        return (MAX_EXPANSION + 1) * length + Long.BYTES;
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
        while (i + Long.BYTES <= end && isPlainAscii((long) LONGS.get(dst, i))) { // most log text: plain ASCII
            i += Long.BYTES;
        }
        int state = ACCEPT;
        int mixedWords = 0;
        // a word at a time: skipped while it is plain ASCII that needs no escape (most log text), otherwise its
        // eight bytes go through the automaton, taken from the word already loaded. The word is tested before the
        // state: in text of many multi-byte characters the state between two words is a coin toss, known only at
        // the end of the automaton's chain, while "not plain" is known at once and always right there
        while (i + Long.BYTES <= end) {
            final long word = (long) LONGS.get(dst, i);
            if (isPlainAscii(word) && ACCEPT == state) {
                i += Long.BYTES;
                mixedWords = 0;
                continue;
            }
            final int stateAtStart = state;
            for (int shift = 0; shift < Long.SIZE; shift += 2 * Byte.SIZE) {
                state = (int) (VALIDATE_PAIRS[(int) (word >>> shift) & 0xFFFF] >>> state);
            }
            state &= 63;
            if (ERROR == state) {
                return rewrite(dst, characterStart(dst, i, stateAtStart), end, spare(pos, length));
            }
            i += Long.BYTES;
            if (++mixedWords == DENSE_WORDS) {
                // dense non-ASCII text: blocks of words through the automaton, no test per word, until a block of
                // plain ASCII (or less than a block is left)
                while (i + BLOCK_BYTES <= end) {
                    final int stateAtBlock = state;
                    long bytes = 0;
                    for (int w = 0; w < BLOCK_BYTES; w += Long.BYTES) {
                        final long blockWord = (long) LONGS.get(dst, i + w);
                        bytes |= blockWord;
                        for (int shift = 0; shift < Long.SIZE; shift += 2 * Byte.SIZE) {
                            state = (int) (VALIDATE_PAIRS[(int) (blockWord >>> shift) & 0xFFFF] >>> state);
                        }
                    }
                    state &= 63;
                    if (ERROR == state) { // rewritten from the block's first character: the rewrite finds the fault
                        return rewrite(dst, characterStart(dst, i, stateAtBlock), end, spare(pos, length));
                    }
                    i += BLOCK_BYTES;
                    if ((bytes & HIGHS) == 0) {
                        break; // plain ASCII: back to skipping words
                    }
                }
                mixedWords = 0;
            }
        }
        final int tailStart = i;
        final int stateAtTail = state;
        while (i < end) {
            state = (int) (VALIDATE[dst[i] & 0xFF] >>> state);
            i++;
        }
        state &= 63;
        if (ERROR == state) {
            return rewrite(dst, characterStart(dst, tailStart, stateAtTail), end, spare(pos, length));
        }
        if (ACCEPT != state) {
            // the text ends inside a sequence, everything before it valid and plain: its valid prefix is one U+FFFD
            return writeReplacement(dst, characterStart(dst, end, state));
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
        return rewrite(dst, pos, pos + length, spare(pos, length));
    }

    /** Where the unchecked input is moved: past the worst-case output and a word, so no store reaches unread input. */
    private static int spare(final int pos, final int length) {
        return pos + MAX_EXPANSION * length + Long.BYTES;
    }

    /**
     * @return {@code at} if the automaton was between characters there ({@code state} is {@link #ACCEPT}); otherwise
     *     the lead byte of the character it was inside of, a valid prefix, at most 3 bytes back.
     */
    private static int characterStart(final byte[] a, final int at, final int state) {
        if (ACCEPT == state) {
            return at;
        }
        int i = at - 1;
        while ((a[i] & 0xC0) == 0x80) {
            i--;
        }
        return i;
    }

    /**
     * Escapes {@code dst[from, end)} in place: moves it to {@code spare}, then writes the escaped bytes back from
     * {@code from}, starting between two characters.
     */
    private static int rewrite(final byte[] dst, final int from, final int end, final int spare) {
        final int n = end - from;
        System.arraycopy(dst, from, dst, spare, n);
        final int inEnd = spare + n;
        int in = spare;
        int out = from;
        int state = ACCEPT;
        int sequenceStart = in;
        int escapedWords = 0;
        while (in < inEnd) {
            if (in + Long.BYTES <= inEnd) {
                // the word before the state, as in the check: in multi-byte text the state is a coin toss
                final long word = (long) LONGS.get(dst, in);
                if ((word & HIGHS) == 0 && ACCEPT == state) {
                    if (escapedWords < ESCAPED_WORDS && isPlainAscii(word)) {
                        LONGS.set(dst, out, word);
                        out += Long.BYTES;
                    } else { // ASCII, some of it to escape: the automaton stays at ACCEPT
                        final int before = out;
                        out = emitAscii(dst, word, out);
                        // escape-heavy text: words go straight to emitAscii, untested, until one is plain (8 bytes out)
                        escapedWords = Long.BYTES == out - before ? 0 : escapedWords + 1;
                    }
                    in += Long.BYTES;
                    continue;
                }
                // multi-byte text: a word of valid characters with nothing to escape is copied as it is
                int next = state;
                for (int shift = 0; shift < Long.SIZE; shift += 2 * Byte.SIZE) {
                    next = (int) (VALIDATE_PAIRS[(int) (word >>> shift) & 0xFFFF] >>> next);
                }
                next &= 63;
                if (ERROR != next) {
                    LONGS.set(dst, out, word);
                    if (ACCEPT != next) { // it ends inside a character, which starts in it (at most 3 bytes back)
                        int lead = in + Long.BYTES - 1;
                        while ((dst[lead] & 0xC0) == 0x80) {
                            lead--;
                        }
                        sequenceStart = lead;
                    }
                    state = next;
                    in += Long.BYTES;
                    out += Long.BYTES;
                    continue;
                }
            }
            final int stop = Math.min(in + Long.BYTES, inEnd);
            while (in < stop) {
                final int b = dst[in] & 0xFF;
                final long emit = EMIT[b];
                LONGS.set(dst, out, emit);
                out += (int) (emit >>> 56);
                sequenceStart = ACCEPT == state ? in : sequenceStart;
                state = (int) (UTF8[b] >>> state) & 63; // masked here: it is tested after every byte
                in++;
                if (ERROR == state) {
                    // back to the output of the sequence's start: the bytes before this one were copied as they
                    // are, this one wrote its emit
                    out -= (int) (emit >>> 56) + (in - 1 - sequenceStart);
                    in = sequenceStart + replaceInvalid(dst, sequenceStart, inEnd, out);
                    out += 3;
                    state = ACCEPT;
                    break;
                }
            }
        }
        if (ACCEPT != state) { // the text ends inside a sequence: its valid prefix, copied, is one U+FFFD
            out = writeReplacement(dst, out - (inEnd - sequenceStart));
        }
        return out;
    }

    /**
     * Writes the output of eight ASCII bytes, one {@link #EMIT} word each: no automaton, no test, and each byte taken
     * from the word already loaded — the only chain from byte to byte is the add of the output's position.
     *
     * @return the position after the eighth byte's output.
     */
    private static int emitAscii(final byte[] dst, final long word, final int at) {
        int out = at;
        for (int shift = 0; shift < Long.SIZE; shift += Byte.SIZE) {
            final long emit = EMIT[(int) (word >>> shift) & 0xFF];
            LONGS.set(dst, out, emit);
            out += (int) (emit >>> 56);
        }
        return out;
    }

    /**
     * Writes one U+FFFD at {@code out} for the maximal invalid subpart that starts at {@code at}.
     *
     * @return its length.
     */
    private static int replaceInvalid(final byte[] dst, final int at, final int inEnd, final int out) {
        writeReplacement(dst, out);
        return -validSequenceLength(dst, at, inEnd);
    }

    private static int writeReplacement(final byte[] dst, final int out) {
        dst[out] = (byte) 0xEF;
        dst[out + 1] = (byte) 0xBF;
        dst[out + 2] = (byte) 0xBD;
        return out + 3;
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
