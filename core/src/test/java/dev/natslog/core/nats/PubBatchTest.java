package dev.natslog.core.nats;

import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LogLine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PubBatchTest {
    private static final byte[] SUBJECT = PubBatch.pubPrefix("logs.web");

    private static final byte[] PREFIX = JsonEventEncoder.renderPrefix(java.util.Map.of("container_name", "web"));

    private static JsonEventEncoder encoder() {
        return new JsonEventEncoder(PREFIX, io.netty.buffer.PooledByteBufAllocator.DEFAULT);
    }

    /** A stdout line over these bytes (kept: a test may change them). */
    private static LogLine stdout(final ByteBuf text, final long time) {
        final ByteBuf source = Unpooled.wrappedBuffer("stdout".getBytes(StandardCharsets.US_ASCII));
        return new LogLine().set(text, 0, text.readableBytes(), source, 0, 6, time);
    }

    private static ByteBuf utf8(final String text) {
        return Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuf event(final String json) {
        final ByteBuf b = Unpooled.buffer();
        b.writeBytes("xx".getBytes(StandardCharsets.UTF_8)); // the event is the readable bytes only
        b.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        b.readerIndex(2);
        return b;
    }

    @Test
    void eventsAreWrittenAsNatsPubsBackToBackWithTheirOffsets() {
        final PubBatch batch = new PubBatch(1024, 1);
        assertTrue(batch.isEmpty());
        batch.add(SUBJECT, event("{\"a\":1}"));
        final int first = batch.lastOffset();
        final byte[] other = PubBatch.pubPrefix("logs.\u00e9");
        batch.add(other, event("{\"line\":\"" + "y".repeat(120) + "\"}"));
        final int second = batch.lastOffset();
        batch.add(SUBJECT, event(""));
        final int third = batch.lastOffset();
        assertEquals(0, batch.lastSize());
        final String expected = "PUB logs.web 7\r\n{\"a\":1}\r\n"
            + "PUB logs.\u00e9 131\r\n{\"line\":\"" + "y".repeat(120) + "\"}\r\n"
            + "PUB logs.web 0\r\n\r\n";
        final int length = batch.length();
        final byte[] wire = batch.take();
        assertEquals(expected, new String(wire, 0, length, StandardCharsets.UTF_8));
        assertEquals("{\"a\":1}", new String(wire, first, 7, StandardCharsets.UTF_8));
        assertEquals('{', wire[second]);
        assertEquals(expected.getBytes(StandardCharsets.UTF_8).length - 2, third);
        assertTrue(batch.isEmpty(), "take empties the batch");
        assertEquals(0, batch.length());
    }

    /** Sizes are written in room for their digits, counted by comparisons: every power of ten and its neighbours. */
    @Test
    void theDigitsOfASizeAreCountedRightAtEveryPowerOfTen() {
        for (long power = 1; power <= Integer.MAX_VALUE; power *= 10) {
            for (long value = Math.max(0, power - 1); value <= Math.min(Integer.MAX_VALUE, power + 1); value++) {
                assertEquals(Long.toString(value).length(), PubBatch.digits((int) value), "digits of " + value);
            }
        }
        assertEquals(10, PubBatch.digits(Integer.MAX_VALUE));
    }

    @Test
    void theFirstControlLineIsMeasuredWithoutItsCrLf() {
        final PubBatch batch = new PubBatch(1024, 1);
        batch.add(SUBJECT, event("{}"));
        batch.add(SUBJECT, event("{\"b\":2}"));
        assertEquals("PUB logs.web 2".length(), batch.firstControlLine());
        assertEquals(("PUB logs.web 2\r\n{}\r\nPUB logs.web 7\r\n{\"b\":2}\r\n").length(), batch.length());
    }

    @Test
    void aBatchTakesEventsUpToItsCapacityAndAnEmptyOneTakesAnyEvent() {
        final PubBatch batch = new PubBatch(200, 1);
        final String big = "{\"t\":\"" + "z".repeat(500) + "\"}";
        assertTrue(batch.fits(SUBJECT, big.length()), "an empty batch takes any event");
        batch.add(SUBJECT, event(big));
        assertFalse(batch.fits(SUBJECT, 1), "nothing more once past the capacity");
        final int length = batch.length();
        final byte[] wire = batch.take();
        assertEquals("PUB logs.web " + big.length() + "\r\n" + big + "\r\n",
            new String(wire, 0, length, StandardCharsets.UTF_8));
        assertEquals(200, batch.wire().length, "the grown array is given up");

        int events = 0;
        while (batch.fits(SUBJECT, 20)) {
            batch.add(SUBJECT, event("x".repeat(20)));
            events++;
        }
        // 39 bytes each; fits() reserves room for a 10-digit size, so a 5th (to 195 bytes) is not taken
        assertEquals(4, events);
        assertEquals(4 * ("PUB logs.web 20\r\n".length() + 22), batch.length());
    }

    /**
     * Encoded straight into the batch, an event's size is written after the fact in the room its bound's digits
     * took, right-aligned with spaces before it: still a valid NATS control line (any run of whitespace separates
     * fields), and exactly the bytes the encoder makes on its own.
     */
    @Test
    void eventsEncodedInPlaceCarryTheirExactSizeAndBytes() {
        final PubBatch batch = new PubBatch(64 * 1024, 1);
        final java.util.List<byte[]> expected = new java.util.ArrayList<>();
        try (JsonEventEncoder encoder = encoder(); JsonEventEncoder reference = encoder()) {
            for (final String text : new String[] {"", "hello", "\"quoted\"\t\u0001", "\u00e9t\u00e9 ".repeat(300)}) {
                final LogLine line = stdout(utf8(text), 1_700_000_000_123_456_789L);
                assertTrue(batch.add(SUBJECT, encoder, line));
                expected.add(reference.encode(line));
                assertEquals(expected.get(expected.size() - 1).length, batch.lastSize());
            }
        }
        final int length = batch.length();
        final byte[] wire = batch.take();
        int p = 0;
        for (final byte[] event : expected) { // parse it as a server would: PUB, subject, size, CRLF, payload, CRLF
            int eol = p;
            while (wire[eol] != '\r') {
                eol++;
            }
            final String[] fields = new String(wire, p, eol - p, StandardCharsets.UTF_8).trim().split("[ \t]+");
            assertEquals(3, fields.length, String.join("|", fields));
            assertEquals("PUB", fields[0]);
            assertEquals("logs.web", fields[1]);
            assertEquals(event.length, Integer.parseInt(fields[2]));
            assertEquals('\n', wire[eol + 1]);
            assertArrayEquals(event, java.util.Arrays.copyOfRange(wire, eol + 2, eol + 2 + event.length));
            assertEquals('\r', wire[eol + 2 + event.length]);
            assertEquals('\n', wire[eol + 3 + event.length]);
            p = eol + 4 + event.length;
        }
        assertEquals(length, p, "nothing else in the batch");
    }

    @Test
    void aBatchWithoutRoomForAnEventsBoundTakesNothingAndTheEmptyOneTakesIt() {
        final PubBatch batch = new PubBatch(2048, 1);
        try (JsonEventEncoder encoder = encoder()) {
            final LogLine line = stdout(utf8("x".repeat(1000)), 1);
            assertTrue(batch.add(SUBJECT, encoder, line), "an empty batch takes any event");
            assertEquals(2048, batch.wire().length, "its bound (6 KB) is past the capacity, the event (1.3 KB) is not");
            final int length = batch.length();
            assertFalse(batch.add(SUBJECT, encoder, line), "a 1000-byte line's bound is past what is left");
            assertEquals(length, batch.length(), "nothing written");
            batch.removeLast();
            assertTrue(batch.isEmpty());
            assertEquals(0, batch.length());
        }
    }

    /** 16 KiB lines: bounds of ~100 KB each, events of ~16.5 KB — three to a 64 KiB batch, which never grows. */
    @Test
    void longLinesFillABatchToItsCapacityWithoutGrowingIt() {
        final PubBatch batch = new PubBatch(64 * 1024, 1);
        try (JsonEventEncoder encoder = encoder(); JsonEventEncoder reference = encoder()) {
            final LogLine line = stdout(utf8("y".repeat(16 * 1024)), 1);
            final byte[] expected = reference.encode(line);
            int events = 0;
            while (batch.add(SUBJECT, encoder, line)) {
                events++;
                assertEquals(expected.length, batch.lastSize());
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(batch.wire(), batch.lastOffset(),
                    batch.lastOffset() + batch.lastSize()));
            }
            assertEquals(64 * 1024 / (expected.length + 26), events);
            assertEquals(64 * 1024, batch.wire().length, "never grown");
        }
    }

    /**
     * An escape-heavy long line: its unescaped length fits what is left, its event does not. The event made then is
     * the one the emptied batch takes next — the line is encoded once — and the same bytes as the encoder's own.
     */
    @Test
    void aLongEventThatFoundNoRoomIsTakenByTheNextBatchWithoutEncodingItAgain() {
        final PubBatch batch = new PubBatch(64 * 1024, 1);
        try (JsonEventEncoder encoder = encoder(); JsonEventEncoder reference = encoder()) {
            assertTrue(batch.add(SUBJECT, encoder, stdout(utf8("f".repeat(40_000)), 1)));
            // 16 KiB of quotes: 16 KiB unescaped (fits the ~24 KiB left), 32 KiB escaped (does not)
            final ByteBuf quotes = utf8("\"".repeat(16 * 1024));
            final LogLine line = stdout(quotes, 2);
            final byte[] expected = reference.encode(line);
            assertFalse(batch.add(SUBJECT, encoder, line), "no room for its event");
            batch.take();
            quotes.setByte(0, 'X'); // were it encoded again, its first character would show it
            assertTrue(batch.add(SUBJECT, encoder, line));
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(batch.wire(), batch.lastOffset(),
                batch.lastOffset() + batch.lastSize()), "the event made before the hand-over");
        }
    }

    /**
     * A batch is handed over in its own array, not a copy; an array given back once its events are confirmed is
     * written into again by a later batch, so a steady stream allocates none — but only arrays of the capacity, and
     * only as many as the batch keeps.
     */
    @Test
    void arraysHandedOverAndGivenBackAreReusedUpToTheSparesKept() {
        final PubBatch batch = new PubBatch(1024, 2);
        final byte[] working = batch.wire();
        batch.add(SUBJECT, event("{\"a\":1}"));
        final byte[] first = batch.take();
        assertSame(working, first, "handed over as it is");
        final byte[] second = batch.wire();
        assertNotSame(first, second, "the next batch is written elsewhere");
        batch.add(SUBJECT, event("{\"b\":2}"));
        final String firstText = "PUB logs.web 7\r\n{\"a\":1}\r\n";
        assertEquals(firstText, new String(first, 0, firstText.length(), StandardCharsets.UTF_8),
            "what was handed over is never written again");
        batch.recycle(first);
        assertSame(second, batch.take());
        assertSame(first, batch.wire(), "a given-back array takes the next batch");

        final byte[] a = batch.take(); // the given-back one
        final byte[] b = batch.take();
        final byte[] c = batch.take();
        batch.recycle(a);
        batch.recycle(b);
        batch.recycle(c); // a third spare: not kept
        batch.take();
        final byte[] spare1 = batch.wire();
        batch.take();
        final byte[] spare2 = batch.wire();
        assertTrue(spare1 == a && spare2 == b || spare1 == b && spare2 == a, "the two spares kept");
        batch.take();
        final byte[] fresh = batch.wire();
        assertTrue(fresh != a && fresh != b && fresh != c, "no more spares: a new array");

        batch.add(SUBJECT, event("z".repeat(2000))); // grows the working array past the capacity
        final byte[] grown = batch.take();
        assertEquals(1024, batch.wire().length);
        batch.recycle(grown);
        batch.take();
        assertNotSame(grown, batch.wire(), "an array grown past the capacity is not reused");

        batch.recycle(fresh);
        batch.dropSpares();
        batch.take();
        assertNotSame(fresh, batch.wire(), "spares dropped");
    }

    @Test
    void sizesAreWrittenInDecimal() {
        for (final int size : new int[] {9, 10, 99, 100, 65_535, 1_048_576}) {
            final PubBatch batch = new PubBatch(16, 1);
            batch.add(SUBJECT, Unpooled.wrappedBuffer(new byte[size]));
            final String head = new String(batch.take(), 0, 24, StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("PUB logs.web " + size + "\r\n"), head);
        }
    }
}
