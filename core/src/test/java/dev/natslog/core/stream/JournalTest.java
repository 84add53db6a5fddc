package dev.natslog.core.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalTest {
    @TempDir
    Path dir;

    private static byte[] bytes(final int n, final int seed) {
        final byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

    private static byte[] replay(final Journal j) throws Exception {
        final ByteBuf b = j.replay();
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void aReopenedJournalReplaysFromTheLastCheckpoint() throws Exception {
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(0, j.resumeOffset());
            assertEquals(0, replay(j).length);
            final ByteBuf read = Unpooled.wrappedBuffer(bytes(1000, 1));
            j.append(read);
            assertEquals(1000, read.readableBytes(), "append leaves the read for the decoder");
            j.append(Unpooled.wrappedBuffer(bytes(500, 2)));
            j.checkpoint(700);
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(700, j.resumeOffset());
            final byte[] expected = new byte[800];
            System.arraycopy(bytes(1000, 1), 700, expected, 0, 300);
            System.arraycopy(bytes(500, 2), 0, expected, 300, 500);
            assertArrayEquals(expected, replay(j));
        }
    }

    @Test
    void aCheckpointNeverMovesBackAndIsCappedAtTheEnd() throws Exception {
        try (Journal j = Journal.open(dir, "s")) {
            j.append(Unpooled.wrappedBuffer(bytes(100, 1)));
            j.checkpoint(80);
            j.checkpoint(40);
            assertEquals(80, j.resumeOffset());
            j.checkpoint(1_000_000);
            assertEquals(100, j.resumeOffset());
        }
    }

    @Test
    void aFullyConfirmedLargeJournalIsEmptiedAndOffsetsGoOn() throws Exception {
        final int n = (int) Journal.COMPACT_BYTES + 10;
        try (Journal j = Journal.open(dir, "s")) {
            j.append(Unpooled.wrappedBuffer(new byte[n]));
            j.checkpoint(n);
            assertEquals(0, Files.size(dir.resolve("s.journal")), "emptied once all of it is confirmed");
            j.append(Unpooled.wrappedBuffer(bytes(10, 3)));
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(n, j.resumeOffset());
            assertArrayEquals(bytes(10, 3), replay(j));
        }
    }

    @Test
    void deleteRemovesTheFiles() throws Exception {
        final Journal j = Journal.open(dir, "s");
        j.append(Unpooled.wrappedBuffer(bytes(10, 1)));
        j.delete();
        assertFalse(Files.exists(dir.resolve("s.journal")));
        assertFalse(Files.exists(dir.resolve("s.offsets")));
        assertTrue(Files.isDirectory(dir));
    }
}
