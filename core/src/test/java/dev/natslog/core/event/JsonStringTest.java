package dev.natslog.core.event;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
}
