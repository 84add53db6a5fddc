package dev.natslog.core.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import dev.natslog.core.fifo.FifoReader;
import dev.natslog.core.fifo.NativeFifo;
import dev.natslog.core.testing.Fifo;
import io.netty.buffer.Unpooled;
import io.netty.channel.unix.FileDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalTest {
    @org.junit.jupiter.api.BeforeAll
    static void loadNettysNativeLibrary() {
        io.netty.channel.epoll.Epoll.ensureAvailability(); // FileDescriptor.close is native
    }

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
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        j.replay(b -> {
            assertTrue(b.readableBytes() <= FifoReader.READ_SIZE, "replayed in bounded reads");
            out.writeBytes(ByteBufUtil.getBytes(b));
        });
        return out.toByteArray();
    }

    /**
     * The offsets file is mapped, not written: what a checkpoint records must be in the file at once, for a process
     * killed before any close (read here through the file while the journal is still open), and in the format
     * earlier versions wrote with pwrite (two big-endian longs: base, resume offset), which an upgrade reads back.
     */
    @Test
    void aCheckpointIsInTheFileAtOnceInTheFormatEarlierVersionsWrote() throws Exception {
        try (Journal j = Journal.open(dir, "m")) {
            j.append(Unpooled.wrappedBuffer(bytes(1000, 1)));
            j.checkpoint(640);
            final ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("m.offsets")));
            assertEquals(16, file.capacity());
            assertEquals(0, file.getLong(0), "base");
            assertEquals(640, file.getLong(8), "resume offset, before any close");
        }
        // as an earlier version left them: segment at stream offset 100 with 300 bytes, resume offset 250
        Files.write(dir.resolve("old.100.journal"), bytes(300, 7));
        Files.write(dir.resolve("old.offsets"), ByteBuffer.allocate(16).putLong(0, 100).putLong(8, 250).array());
        try (Journal j = Journal.open(dir, "old")) {
            assertEquals(250, j.resumeOffset());
            final byte[] expected = new byte[150];
            System.arraycopy(bytes(300, 7), 150, expected, 0, 150);
            assertArrayEquals(expected, replay(j));
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
        try (Journal j = Journal.open(dir, "s", 0)) {
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

    @Test
    void transferTakesTheFifosBytesIntoTheJournalBeforeTheDecoderSeesThem() throws Exception {
        final Path fifo = Fifo.make(dir.resolve("fifo"));
        final byte[] first = bytes(3000, 1);
        final byte[] second = bytes(70_000, 2); // more than one transfer
        final ByteBuf into = Unpooled.directBuffer(FifoReader.READ_SIZE, FifoReader.READ_SIZE);
        try (FileChannel writer = Fifo.openWriter(fifo); Journal j = Journal.open(dir, "s")) {
            final FileDescriptor fd = NativeFifo.openForReading(fifo);
            try {
                assertEquals(0, j.transfer(fd, into), "an empty FIFO with a writer: nothing for now");
                writer.write(ByteBuffer.wrap(first));
                assertEquals(3000, j.transfer(fd, into));
                assertArrayEquals(first, ByteBufUtil.getBytes(into));
                assertArrayEquals(first, Files.readAllBytes(dir.resolve("s.0.journal")),
                    "what the decoder gets is already in the file");
                final Thread w = Thread.ofPlatform().start(() -> {
                    try {
                        writer.write(ByteBuffer.wrap(second));
                    } catch (final IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                final ByteArrayOutputStream got = new ByteArrayOutputStream();
                while (got.size() < second.length) {
                    final int n = j.transfer(fd, into);
                    assertTrue(n >= 0);
                    assertEquals(n, into.readableBytes());
                    got.write(ByteBufUtil.getBytes(into));
                }
                w.join();
                assertArrayEquals(second, got.toByteArray());
                assertEquals(3000 + 70_000, Files.size(dir.resolve("s.0.journal")));
                j.checkpoint(1000);
            } finally {
                fd.close();
            }
        } finally {
            into.release();
        }
        try (Journal j = Journal.open(dir, "s")) {
            final byte[] replayed = replay(j);
            assertEquals(3000 + 70_000 - 1000, replayed.length);
            assertArrayEquals(second, java.util.Arrays.copyOfRange(replayed, 2000, replayed.length));
        }
    }

    /**
     * Reading the spliced bytes back must not update the journal's access time: under {@code relatime} every read
     * after a write would (the access time is older than the write), a second inode update per FIFO read.
     */
    @Test
    void readingBackLeavesTheJournalsAccessTimeAlone() throws Exception {
        final Path fifo = Fifo.make(dir.resolve("fifo"));
        final ByteBuf into = Unpooled.directBuffer(1024, 1024);
        try (FileChannel writer = Fifo.openWriter(fifo); Journal j = Journal.open(dir, "s")) {
            final FileDescriptor fd = NativeFifo.openForReading(fifo);
            try {
                assertEquals(0, j.transfer(fd, into)); // the segment is open for splicing from here
                final Path segment = dir.resolve("s.0.journal");
                Thread.sleep(50); // past the file system clock's tick: the writes below get a later time
                for (int i = 0; i < 3; i++) {
                    writer.write(ByteBuffer.wrap(bytes(100, i)));
                    assertEquals(100, j.transfer(fd, into));
                    assertArrayEquals(bytes(100, i), ByteBufUtil.getBytes(into));
                    Thread.sleep(20);
                }
                final java.nio.file.attribute.BasicFileAttributes a =
                    Files.readAttributes(segment, java.nio.file.attribute.BasicFileAttributes.class);
                assertTrue(a.lastAccessTime().compareTo(a.lastModifiedTime()) < 0,
                    "accessed " + a.lastAccessTime() + ", modified " + a.lastModifiedTime());
            } finally {
                fd.close();
            }
        } finally {
            into.release();
        }
    }

    @Test
    void transferReportsTheEndOnceEveryWriterClosed() throws Exception {
        final Path fifo = Fifo.make(dir.resolve("fifo"));
        final ByteBuf into = Unpooled.directBuffer(1024, 1024);
        try (Journal j = Journal.open(dir, "s")) {
            final FileDescriptor fd;
            try (FileChannel writer = Fifo.openWriter(fifo)) {
                fd = NativeFifo.openForReading(fifo);
                writer.write(ByteBuffer.wrap(bytes(10, 1)));
            }
            try {
                assertEquals(10, j.transfer(fd, into));
                assertTrue(j.transfer(fd, into) < 0, "end of file");
            } finally {
                fd.close();
            }
        } finally {
            into.release();
        }
    }

    @Test
    void splicingGoesOnIntoTheNewSegmentAfterACompaction() throws Exception {
        final Path fifo = Fifo.make(dir.resolve("fifo"));
        final ByteBuf into = Unpooled.directBuffer(FifoReader.READ_SIZE, FifoReader.READ_SIZE);
        final int n = (int) Journal.COMPACT_BYTES;
        try (FileChannel writer = Fifo.openWriter(fifo); Journal j = Journal.open(dir, "s", 0)) {
            final FileDescriptor fd = NativeFifo.openForReading(fifo);
            try {
                writer.write(ByteBuffer.wrap(bytes(100, 1)));
                assertEquals(100, j.transfer(fd, into));
                j.append(Unpooled.wrappedBuffer(new byte[n]));
                j.checkpoint(n + 50); // moves the last 50 bytes to segment n + 50
                writer.write(ByteBuffer.wrap(bytes(30, 2)));
                assertEquals(30, j.transfer(fd, into));
                assertArrayEquals(bytes(30, 2), ByteBufUtil.getBytes(into));
            } finally {
                fd.close();
            }
        } finally {
            into.release();
        }
        assertEquals(80, Files.size(dir.resolve("s." + (n + 50) + ".journal")));
        try (Journal j = Journal.open(dir, "s")) {
            final byte[] expected = new byte[80];
            System.arraycopy(bytes(30, 2), 0, expected, 50, 30);
            assertArrayEquals(expected, replay(j));
        }
    }

    @Test
    void aBigUnconfirmedTailIsMovedOnlyOnceAsMuchIsConfirmedAndReplaysInBoundedReads() throws Exception {
        final int mib = 1024 * 1024;
        final byte[] all = new byte[5 * mib];
        new java.util.Random(5).nextBytes(all);
        try (Journal j = Journal.open(dir, "s", 0)) {
            j.append(Unpooled.wrappedBuffer(all));
            j.checkpoint(2 * mib); // 2 MiB confirmed, 3 MiB not: copying 3 to free 2 would not pay
            assertTrue(Files.exists(dir.resolve("s.0.journal")));
            j.checkpoint(3 * mib); // 3 confirmed, 2 not: now it moves
            assertFalse(Files.exists(dir.resolve("s.0.journal")));
            assertEquals(2 * mib, Files.size(dir.resolve("s." + 3 * mib + ".journal")));
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertArrayEquals(java.util.Arrays.copyOfRange(all, 3 * mib, 5 * mib), replay(j));
        }
    }

    @Test
    void aYoungSegmentIsCompactedOnlyOnceItsConfirmedBytesReachTheMaximum() throws Exception {
        final int n = (int) Journal.COMPACT_MAX_BYTES;
        final long hour = 3_600_000_000_000L;
        try (Journal j = Journal.open(dir, "s", hour)) {
            j.append(Unpooled.wrappedBuffer(new byte[n + 100]));
            j.checkpoint(Journal.COMPACT_BYTES); // a MiB confirmed, the segment not an hour old: kept
            assertTrue(Files.exists(dir.resolve("s.0.journal")));
            assertEquals(n + 100, Files.size(dir.resolve("s.0.journal")));
            j.checkpoint(n - 1);
            assertTrue(Files.exists(dir.resolve("s.0.journal")));
            j.checkpoint(n); // the maximum confirmed: compacted however young
            assertFalse(Files.exists(dir.resolve("s.0.journal")));
            assertEquals(100, Files.size(dir.resolve("s." + n + ".journal")));
            j.append(Unpooled.wrappedBuffer(new byte[(int) Journal.COMPACT_BYTES]));
            j.checkpoint(n + Journal.COMPACT_BYTES); // the new segment is young again
            assertTrue(Files.exists(dir.resolve("s." + n + ".journal")));
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertEquals(n + Journal.COMPACT_BYTES, j.resumeOffset());
        }
    }

    @Test
    void aSegmentOlderThanTheIntervalIsCompactedOnceAMebibyteIsConfirmed() throws Exception {
        final int n = (int) Journal.COMPACT_BYTES;
        try (Journal j = Journal.open(dir, "s", 200_000_000L)) {
            j.append(Unpooled.wrappedBuffer(bytes(n + 50, 4)));
            Thread.sleep(250); // the segment's age, not a timing target
            j.checkpoint(n);
            assertFalse(Files.exists(dir.resolve("s.0.journal")));
            assertEquals(50, Files.size(dir.resolve("s." + n + ".journal")));
        }
        try (Journal j = Journal.open(dir, "s")) {
            assertArrayEquals(java.util.Arrays.copyOfRange(bytes(n + 50, 4), n, n + 50), replay(j));
        }
    }
}
