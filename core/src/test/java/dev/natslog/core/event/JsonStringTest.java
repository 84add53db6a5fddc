package dev.natslog.core.event;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonStringTest {
    @Test
    void theWordAtATimeTestAgreesWithTheByteTestForEveryByteAtEveryPlaceAndNeighbour() {
        for (int place = 0; place < 8; place++) {
            for (int b = 0; b < 256; b++) {
                for (final int neighbour : new int[] {'a', 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x1F, 0x80}) {
                    final byte[] word = new byte[8];
                    java.util.Arrays.fill(word, (byte) neighbour);
                    word[place] = (byte) b;
                    boolean plain = true;
                    for (final byte x : word) {
                        plain &= x >= 0x20 && x != '"' && x != '\\';
                    }
                    final long w = ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    assertEquals(plain, JsonString.isPlainAscii(w), "byte " + b + " at " + place + " among " + neighbour);
                }
            }
        }
    }

    /** Bytes at the edges of every class the UTF-8 automaton and the escape table tell apart. */
    private static final int[] EDGES = {0x00, 0x01, 0x0A, 0x1F, 0x20, 0x22, 0x41, 0x5C, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
        0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};

    /**
     * Every sequence of up to four edge bytes, alone, at the end of a line and across the 8-byte blocks of both
     * passes (after 0 to 9 plain bytes, with plain bytes after it), written into a destination of exactly
     * {@link JsonString#requiredCapacity} bytes: the automaton, the escape table and the replacement of invalid
     * subparts against the JDK's decoder, one byte at a time.
     */
    @Test
    void everySequenceOfEdgeBytesAgreesWithTheJdkDecoderWhereverItFalls() {
        final int n = EDGES.length;
        int cases = 0;
        for (int length = 1; length <= 4; length++) {
            final int combinations = (int) Math.pow(n, length);
            for (int c = 0; c < combinations; c++) {
                final byte[] sequence = edgeSequence(c, length);
                final int[] befores = length == 4 ? new int[] {7} : new int[] {0, 1, 5, 7, 8, 9};
                for (final int before : befores) {
                    for (final int after : length == 4 ? new int[] {0, 9} : new int[] {0, 1, 9}) {
                        final byte[] text = new byte[before + length + after];
                        Arrays.fill(text, (byte) 'p');
                        System.arraycopy(sequence, 0, text, before, length);
                        final byte[] expected = reference(text);
                        assertByteBufWriterAgrees(text, expected);
                        final byte[] dst2 = new byte[JsonString.requiredCapacity(text.length)];
                        final int end2 = JsonString.write(text, 0, text.length, dst2, 0);
                        if (!Arrays.equals(expected, Arrays.copyOf(dst2, end2))) {
                            assertArrayEquals(expected, Arrays.copyOf(dst2, end2), "array writer: " + hex(text));
                        }
                        cases++;
                    }
                }
            }
        }
        assertEquals(2 * 31 * 31 * 31 * 31 + 18 * (31 + 31 * 31 + 31 * 31 * 31), cases);
    }

    /**
     * Every two bytes in the word after a word with an accent, at both places in a pair of the word's bytes:
     * multi-byte text is checked two bytes per table entry (the automaton's two steps composed), so each of the
     * 65,536 pairs is checked as it falls in one entry and as it falls across two.
     */
    @Test
    void everyTwoBytesAgreeWithTheJdkDecoderInsideAndAcrossTheCheckedPairs() {
        for (int pair = 0; pair < 1 << 16; pair++) {
            for (final int at : new int[] {8, 9}) { // the first word "é" and 6 plain bytes; the pair at byte 8 or 9
                final byte[] text = new byte[at + 2 + 7];
                Arrays.fill(text, (byte) 'p');
                text[0] = (byte) 0xC3;
                text[1] = (byte) 0xA9;
                text[at] = (byte) pair;
                text[at + 1] = (byte) (pair >>> 8);
                assertByteBufWriterAgrees(text, reference(text));
            }
        }
    }

    /**
     * The same edge sequences deep inside long non-ASCII text (checked a block at a time from its first accent):
     * at many distances from the start, with text after them or at the very end.
     */
    @Test
    void everySequenceOfEdgeBytesDeepInLongNonAsciiTextAgreesWithTheJdkDecoder() {
        final byte[] accents = "\u00e9\u00e8\u00ea\u00eb\u00e0\u00e2\u00ee\u00ef\u00f4\u00fb\u00e7\u00f9".getBytes(StandardCharsets.UTF_8);
        final int n = EDGES.length;
        int cases = 0;
        for (int length = 1; length <= 3; length++) {
            final int combinations = (int) Math.pow(n, length);
            for (int c = 0; c < combinations; c++) {
                final byte[] sequence = edgeSequence(c, length);
                for (final int before : new int[] {20, 39, 40, 41, 44, 60, 100}) {
                    for (final int after : new int[] {0, 1, 40, 100}) {
                        final byte[] text = new byte[accents.length + before + length + after];
                        System.arraycopy(accents, 0, text, 0, accents.length);
                        for (int k = accents.length; k < text.length; k++) {
                            text[k] = (byte) (k % 3 == 0 ? 'p' : k % 3 == 1 ? 0xC3 : 0xA9); // more accents
                        }
                        final int at = accents.length + before;
                        if ((text[at - 1] & 0xFF) == 0xC3) {
                            text[at - 1] = 'q'; // keep the characters before the sequence whole
                        }
                        System.arraycopy(sequence, 0, text, at, length);
                        if (at + length < text.length && (text[at + length] & 0xFF) == 0xA9) {
                            text[at + length] = 'r';
                        }
                        assertByteBufWriterAgrees(text, reference(text));
                        cases++;
                    }
                }
            }
        }
        assertEquals(28 * (31 + 31 * 31 + 31 * 31 * 31), cases);
    }

    /**
     * Dense non-ASCII text is checked in blocks of eight words, and a block of plain ASCII sends the check back to
     * word by word: an escape, an invalid or a cut sequence, or another accent, after such text (whose words cut
     * characters, or do not) and a plain run of every length around a block's and a word's, anywhere in or after the
     * blocks.
     */
    @Test
    void whatFollowsMixedTextAndAPlainRunIsFoundWhereverBlocksAndWordsEnd() {
        final byte[][] sequences = {{'"'}, {0x01}, {'\\'}, {(byte) 0xC3, (byte) 0xA9}, {(byte) 0xFF},
            {(byte) 0xE6, (byte) 0x97}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80}};
        int cases = 0;
        for (final int mixed : new int[] {2, 9, 63, 64, 65, 130, -40, -41, -64, -100}) { // < 0: that many é
            for (int plain = 0; plain <= 72; plain++) {
                for (final byte[] sequence : sequences) {
                    for (final int after : new int[] {0, 1, 8, 20, 70}) {
                        final ByteArrayOutputStream out = new ByteArrayOutputStream();
                        for (int k = 0; k < Math.abs(mixed); k++) { // è and m (the words cut characters), or é only
                            out.writeBytes(k % 2 == 0 || mixed < 0 ? new byte[] {(byte) 0xC3, (byte) (mixed < 0 ? 0xA9 : 0xA8)}
                                : new byte[] {'m'});
                        }
                        for (int k = 0; k < plain; k++) {
                            out.write('a' + k % 26);
                        }
                        out.writeBytes(sequence);
                        for (int k = 0; k < after; k++) { // plain ASCII, or more accents after 20
                            out.write(after <= 20 ? 'z' : k % 5 == 4 ? 0xC3 : k % 5 == 0 && k > 0 ? 0xA0 : 'z');
                        }
                        final byte[] text = out.toByteArray();
                        assertByteBufWriterAgrees(text, reference(text));
                        cases++;
                    }
                }
            }
        }
        assertEquals(10 * 73 * 8 * 5, cases);
    }

    /** The ByteBuf writer against the expected output (the message, the text in hex, is built only on a failure). */
    private static void assertByteBufWriterAgrees(final byte[] text, final byte[] expected) {
        final byte[] dst = new byte[JsonString.requiredCapacity(text.length)];
        final int end = JsonString.write(Unpooled.wrappedBuffer(text), 0, text.length, dst, 0);
        if (!Arrays.equals(expected, Arrays.copyOf(dst, end))) {
            assertArrayEquals(expected, Arrays.copyOf(dst, end), "ByteBuf writer: " + hex(text));
        }
    }

    /** @return the {@code c}-th sequence of {@code length} {@link #EDGES} bytes (c in base {@code EDGES.length}). */
    private static byte[] edgeSequence(final int c, final int length) {
        final byte[] sequence = new byte[length];
        for (int k = 0, rest = c; k < length; k++, rest /= EDGES.length) {
            sequence[k] = (byte) EDGES[rest % EDGES.length];
        }
        return sequence;
    }

    private static String hex(final byte[] text) {
        final StringBuilder b = new StringBuilder();
        for (final byte x : text) {
            b.append(String.format("%02x ", x & 0xFF));
        }
        return b.toString();
    }

    /**
     * Both writers against the plainest possible reference — the JDK's UTF-8 decoding, then one char at a time —
     * on text made of runs: long and short plain ASCII (the word-at-a-time paths), escapes, valid and invalid
     * UTF-8, at every alignment of source and destination.
     */
    @Test
    void bothWritersAgreeWithTheJdkDecoderAndASimpleEscaperOnRunsOfEveryKind() {
        final Random r = new Random(24);
        for (int i = 0; i < 20_000; i++) {
            final byte[] text = runs(r, r.nextInt(i % 100 == 0 ? 5000 : 120));
            final byte[] expected = reference(text);
            final int srcOffset = r.nextInt(9);
            final int dstOffset = r.nextInt(9);
            final byte[] src = new byte[srcOffset + text.length];
            System.arraycopy(text, 0, src, srcOffset, text.length);
            final ByteBuf buf = Unpooled.wrappedBuffer(src);
            final byte[] dst = new byte[dstOffset + JsonString.requiredCapacity(text.length)];
            final int end = JsonString.write(buf, srcOffset, text.length, dst, dstOffset);
            assertArrayEquals(expected, Arrays.copyOfRange(dst, dstOffset, end), "ByteBuf writer, case " + i);
            final byte[] dst2 = new byte[dstOffset + JsonString.requiredCapacity(text.length)];
            final int end2 = JsonString.write(src, srcOffset, text.length, dst2, dstOffset);
            assertArrayEquals(expected, Arrays.copyOfRange(dst2, dstOffset, end2), "array writer, case " + i);
        }
    }

    private static byte[] runs(final Random r, final int length) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < length) {
            switch (r.nextInt(7)) {
                case 0, 1 -> { // a run of plain ASCII, often longer than a word
                    final int n = 1 + r.nextInt(r.nextBoolean() ? 40 : 7);
                    for (int k = 0; k < n; k++) {
                        final int c = 0x20 + r.nextInt(0x5F);
                        out.write(c == '"' || c == '\\' ? 'z' : c);
                    }
                }
                case 2 -> out.write("\"\\\n\r\t\b\f".charAt(r.nextInt(7)));
                case 3 -> out.write(r.nextInt(0x20));
                case 4 -> out.writeBytes(new String(Character.toChars(new int[] {0xE9, 0x65E5, 0x1F600, 0x7FF, 0x800,
                    0xFFFD, 0x10FFFF, 0xD7FF, 0xE000}[r.nextInt(9)])).getBytes(StandardCharsets.UTF_8));
                case 5 -> { // invalid: stray, truncated, overlong, surrogate, too high
                    final byte[][] bad = {{(byte) 0x80}, {(byte) 0xC3}, {(byte) 0xE6, (byte) 0x97}, {(byte) 0xC0, (byte) 0xAF},
                        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                        {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xFF}};
                    out.writeBytes(bad[r.nextInt(bad.length)]);
                }
                default -> out.writeBytes("\u00e9t\u00e9 ".getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static byte[] reference(final byte[] text) {
        final String s = new String(text, StandardCharsets.UTF_8);
        final StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
