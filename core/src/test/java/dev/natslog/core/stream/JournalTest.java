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
    void aLargelyConfirmedJournalMovesItsTailToANewSegmentAndOffsetsGoOn() throws Exception {
        final int n = (int) Journal.COMPACT_BYTES + 10;
        final byte[] all = new byte[n + 100];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (i * 7);
        }
        try (Journal j = Journal.open(dir, "s")) {
            j.append(Unpooled.wrappedBuffer(all));
            j.checkpoint(n); // 100 bytes at the end are not confirmed yet
            assertFalse(Files.exists(dir.resolve("s.0.journal")), "the old segment is gone");
            assertEquals(100, Files.size(dir.resolve("s." + n + ".journal")), "only the unconfirmed tail is kept");
            j.append(Unpooled.wrappedBuffer(bytes(10, 3)));
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(n, j.resumeOffset());
            final byte[] expected = new byte[110];
            System.arraycopy(all, n, expected, 0, 100);
            System.arraycopy(bytes(10, 3), 0, expected, 100, 10);
            assertArrayEquals(expected, replay(j));
        }
    }

    @Test
    void staleSegmentsFromACrashMidMoveAreRemovedAtOpen() throws Exception {
        try (Journal j = Journal.open(dir, "s")) {
            j.append(Unpooled.wrappedBuffer(bytes(50, 1)));
            j.checkpoint(20);
        }
        Files.write(dir.resolve("s.999.journal"), bytes(5, 9)); // a segment the offsets never named
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(20, j.resumeOffset());
            assertEquals(30, replay(j).length);
        }
        assertFalse(Files.exists(dir.resolve("s.999.journal")));
    }

    @Test
    void deleteRemovesTheFiles() throws Exception {
        final Journal j = Journal.open(dir, "s");
        j.append(Unpooled.wrappedBuffer(bytes(10, 1)));
        j.delete();
        assertFalse(Files.exists(dir.resolve("s.0.journal")));
        assertFalse(Files.exists(dir.resolve("s.offsets")));
        assertTrue(Files.isDirectory(dir));
    }
}
