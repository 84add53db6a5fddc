package dev.natslog.core.nats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PubBatchTest {
    private static final byte[] SUBJECT = PubBatch.pubPrefix("logs.web");

    private static ByteBuf event(final String json) {
        final ByteBuf b = Unpooled.buffer();
        b.writeBytes("xx".getBytes(StandardCharsets.UTF_8)); // the event is the readable bytes only
        b.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        b.readerIndex(2);
        return b;
    }

    @Test
    void eventsAreWrittenAsNatsPubsBackToBackWithTheirOffsets() {
        final PubBatch batch = new PubBatch(1024);
        assertTrue(batch.isEmpty());
        final int first = batch.add(SUBJECT, event("{\"a\":1}"));
        final byte[] other = PubBatch.pubPrefix("logs.\u00e9");
        final int second = batch.add(other, event("{\"line\":\"" + "y".repeat(120) + "\"}"));
        final int third = batch.add(SUBJECT, event(""));
        final String expected = "PUB logs.web 7\r\n{\"a\":1}\r\n"
            + "PUB logs.\u00e9 131\r\n{\"line\":\"" + "y".repeat(120) + "\"}\r\n"
            + "PUB logs.web 0\r\n\r\n";
        final byte[] wire = batch.take();
        assertEquals(expected, new String(wire, StandardCharsets.UTF_8));
        assertEquals("{\"a\":1}", new String(wire, first, 7, StandardCharsets.UTF_8));
        assertEquals('{', wire[second]);
        assertEquals(expected.getBytes(StandardCharsets.UTF_8).length - 2, third);
        assertTrue(batch.isEmpty(), "take empties the batch");
        assertEquals(0, batch.length());
    }

    @Test
    void theFirstControlLineIsMeasuredWithoutItsCrLf() {
        final PubBatch batch = new PubBatch(1024);
        batch.add(SUBJECT, event("{}"));
        batch.add(SUBJECT, event("{\"b\":2}"));
        assertEquals("PUB logs.web 2".length(), batch.firstControlLine());
        assertEquals(("PUB logs.web 2\r\n{}\r\nPUB logs.web 7\r\n{\"b\":2}\r\n").length(), batch.length());
    }

    @Test
    void aBatchTakesEventsUpToItsCapacityAndAnEmptyOneTakesAnyEvent() {
        final PubBatch batch = new PubBatch(200);
        final String big = "{\"t\":\"" + "z".repeat(500) + "\"}";
        assertTrue(batch.fits(SUBJECT, big.length()), "an empty batch takes any event");
        batch.add(SUBJECT, event(big));
        assertFalse(batch.fits(SUBJECT, 1), "nothing more once past the capacity");
        final byte[] wire = batch.take();
        assertEquals("PUB logs.web " + big.length() + "\r\n" + big + "\r\n", new String(wire, StandardCharsets.UTF_8));
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

    @Test
    void sizesAreWrittenInDecimal() {
        for (final int size : new int[] {9, 10, 99, 100, 65_535, 1_048_576}) {
            final PubBatch batch = new PubBatch(16);
            batch.add(SUBJECT, Unpooled.wrappedBuffer(new byte[size]));
            final String head = new String(batch.take(), 0, 24, StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("PUB logs.web " + size + "\r\n"), head);
        }
    }
}
