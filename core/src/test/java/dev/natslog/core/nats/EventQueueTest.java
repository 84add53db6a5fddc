package dev.natslog.core.nats;

import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LogLine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventQueueTest {
    private static final byte[] PREFIX = JsonEventEncoder.renderPrefix(Map.of("container_name", "web"));
    private static final RecordChunks CHUNKS = new RecordChunks(PooledByteBufAllocator.DEFAULT, RecordChunks.DEFAULT_SPARES);

    private static ByteBuf bytes(final String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    private static LogLine line(final String text, final String source, final long time, final long resume) {
        final ByteBuf t = bytes(text);
        final ByteBuf s = bytes(source);
        final LogLine l = new LogLine().set(t, 0, t.readableBytes(), s, 0, s.readableBytes(), time);
        l.resumeOffset(resume);
        return l;
    }

    /** @return the polled event's bytes (taken into a batch of its own), or null. */
    private static byte[] poll(final EventQueue q, final long[] resume, final int[] reserved, final int index) {
        final PubBatch batch = new PubBatch(64 * 1024, 1);
        if (EventQueue.NONE == q.pollInto(batch, resume, reserved, index)) {
            return null;
        }
        return java.util.Arrays.copyOfRange(batch.wire(), batch.lastOffset(), batch.lastOffset() + batch.lastSize());
    }

    private static byte[] expected(final LogLine line) {
        try (JsonEventEncoder e = new JsonEventEncoder(PREFIX, PooledByteBufAllocator.DEFAULT)) {
            return e.encode(line);
        }
    }

    @Test
    void linesComeOutAsTheEventsTheEncoderMakesInOrderWithTheirOffsetsAndSizes() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final LogLine[] lines = new LogLine[3000]; // past the first buffer: it grows
        final ByteBuf id = bytes("abc123");
        for (int i = 0; i < lines.length; i++) {
            lines[i] = line("line \"" + i + "\" \u00e9\u0001", i % 2 == 0 ? "stdout" : "stderr", 1_000_000_007L * i, 10L * i);
            if (i % 7 == 0) {
                lines[i].markPartial(id, 0, 6, i, i % 14 == 0);
            }
            q.add(lines[i], EventQueue.recordSize(lines[i]));
        }
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        for (int i = 0; i < lines.length; i++) {
            final byte[] e = poll(q, resume, reserved, 0);
            assertArrayEquals(expected(lines[i]), e, "line " + i);
            assertEquals(10L * i, resume[0]);
            assertEquals(EventQueue.recordSize(lines[i]), reserved[0]);
        }
        assertNull(poll(q, resume, reserved, 0));
        assertFalse(q.hasEvents());
        q.close();
    }

    @Test
    void aRunOfEventsConfirmedTogetherCountsEachAndDrainsOnlyWhenTheLastIsSettled() {
        final long[] checkpointed = {-1};
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS,
            resume -> checkpointed[0] = resume);
        final LogLine[] lines = {line("a", "stdout", 1, 5), line("bb", "stdout", 2, 9), line("ccc", "stdout", 3, 14)};
        for (final LogLine l : lines) {
            q.add(l, EventQueue.recordSize(l));
        }
        final long[] resume = new long[3];
        final int[] reserved = new int[3];
        int bytes = 0;
        for (int i = 0; i < 3; i++) {
            bytes += poll(q, resume, reserved, i).length;
        }
        final boolean[] drained = {false};
        q.end(() -> drained[0] = true);
        q.confirmed(2, 100, resume[1]); // the first two, in one flush
        assertFalse(drained[0]);
        assertEquals(2, q.sent());
        assertEquals(100, q.sentBytes());
        assertEquals(9, q.confirmedResume());
        q.checkpoint();
        assertEquals(9, checkpointed[0]);
        q.confirmed(1, bytes, resume[2]);
        assertTrue(drained[0]);
        assertEquals(3, q.sent());
        assertEquals(100 + bytes, q.sentBytes());
        assertEquals(14, q.confirmedResume());
        q.close();
    }

    @Test
    void aPutBackEventGoesOutFirstAndTheQueueDrainsOnlyWhenAllAreSettled() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final LogLine a = line("a", "stdout", 1, 5);
        final LogLine b = line("b", "stdout", 2, 9);
        q.add(a, EventQueue.recordSize(a));
        q.add(b, EventQueue.recordSize(b));
        final long[] resume = new long[2];
        final int[] reserved = new int[2];
        final byte[] first = poll(q, resume, reserved, 0);
        final boolean[] drained = {false};
        q.end(() -> drained[0] = true);
        q.pushBack(first, resume[0], reserved[0]); // its flush failed
        assertArrayEquals(first, poll(q, resume, reserved, 0));
        assertEquals(5, resume[0]);
        assertArrayEquals(expected(b), poll(q, resume, reserved, 1));
        q.confirmed(1, first.length, resume[0]);
        assertFalse(drained[0]);
        assertEquals(5, q.confirmedResume());
        q.confirmed(1, 10, resume[1]);
        assertTrue(drained[0]);
        assertEquals(9, q.confirmedResume());
        assertEquals(2, q.sent());
        q.close();
    }

    @Test
    void itsOwnBoundRefusesPastItAndTakesBackWhatIsReleased() {
        final EventQueue q = new EventQueue("s", "web", 0, 100, PREFIX, CHUNKS, resume -> { });
        assertTrue(q.tryReserve(60));
        assertFalse(q.tryReserve(60));
        q.release(60);
        assertTrue(q.tryReserve(100));
        q.close();
    }

    @Test
    void chunksReadThroughGoBackToTheSparesAndTheNextRecordsAreWrittenIntoThem() {
        final RecordChunks chunks = new RecordChunks(PooledByteBufAllocator.DEFAULT, 2);
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, chunks, resume -> { });
        final LogLine l = line("x".repeat(1000), "stdout", 1, 1);
        final int size = EventQueue.recordSize(l);
        final int perChunk = EventQueue.CHUNK / size;
        for (int i = 0; i < 4 * perChunk; i++) { // four chunks full
            q.add(l, size);
        }
        assertEquals(0, chunks.spares());
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        for (int i = 0; i < 4 * perChunk; i++) {
            assertArrayEquals(expected(l), poll(q, resume, reserved, 0), "record " + i);
        }
        assertEquals(2, chunks.spares(), "two chunks kept, the two beyond the bound released");
        q.add(l, size);
        assertEquals(1, chunks.spares(), "the next record went into a spare");
        assertArrayEquals(expected(l), poll(q, resume, reserved, 0), "a reused chunk holds its new record only");
        assertEquals(2, chunks.spares());
        q.close();
        chunks.clear();
    }

    @Test
    void aChunkGivenBackBeyondTheBoundOrOfAnotherSizeIsReleased() {
        final RecordChunks chunks = new RecordChunks(PooledByteBufAllocator.DEFAULT, 1);
        final ByteBuf first = chunks.take(10);
        final ByteBuf second = chunks.take(10);
        final ByteBuf big = chunks.take(EventQueue.CHUNK + 1);
        assertEquals(EventQueue.CHUNK, first.capacity());
        assertEquals(EventQueue.CHUNK + 1, big.capacity());
        first.writeInt(7);
        chunks.give(first);
        chunks.give(second);
        chunks.give(big);
        assertEquals(1, first.refCnt(), "kept");
        assertEquals(0, second.refCnt(), "over the bound: released");
        assertEquals(0, big.refCnt(), "not a standard chunk: released");
        final ByteBuf again = chunks.take(10);
        assertTrue(again == first && 0 == again.readableBytes(), "the spare comes back empty");
        chunks.give(again);
        chunks.clear();
        assertEquals(0, first.refCnt(), "cleared spares are released");
        assertEquals(0, chunks.spares());
    }

    @Test
    void stagedLinesAreSeenOnlyOnceCommittedAndComeOutInOrderWhateverTheChunksTheyFill() {
        final RecordChunks chunks = new RecordChunks(PooledByteBufAllocator.DEFAULT, 4);
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, chunks, resume -> { });
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        final java.util.ArrayDeque<LogLine> expect = new java.util.ArrayDeque<>();
        final java.util.Random r = new java.util.Random(42);
        long visible = 0; // lines the publisher may see (waiting() counts them, taken or not: none is confirmed here)
        long visibleAtCommit = 0;
        int next = 0;
        for (int read = 0; read < 200; read++) {
            final int count = r.nextInt(120); // reads of 0..119 lines: some fill a chunk or several
            int staged = 0;
            for (int i = 0; i < count; i++) {
                // now and then a line longer than a chunk: it is added at once, after what was staged before it
                final int length = r.nextInt(20) == 0 ? EventQueue.CHUNK + 100 : 1 + r.nextInt(300);
                final LogLine l = line(next + ":" + "y".repeat(length), "stderr", next, next);
                next++;
                q.stage(l, EventQueue.recordSize(l));
                expect.add(l);
                if (EventQueue.recordSize(l) > EventQueue.CHUNK) {
                    visible += staged + 1;
                    staged = 0;
                } else {
                    staged++;
                }
            }
            // a staging chunk that fills is committed on the way: the lines in the one being filled are not seen
            final long seen = q.waiting();
            assertTrue(seen >= visible && (0 == staged || seen < visible + staged),
                "read " + read + ": the last staged lines are not seen before the commit: " + seen + " of " + visible
                    + " + " + staged);
            // true when the publisher has lines to be told of: staged ones, or a long line added on the way
            assertEquals(visible + staged > visibleAtCommit, q.commit(), "read " + read);
            visible += staged;
            visibleAtCommit = visible;
            assertEquals(visible, q.waiting(), "read " + read + ": seen once committed");
            // the publisher takes some (not always all) before the next read
            final int take = r.nextInt(3) == 0 ? expect.size() : expect.size() / 2;
            for (int i = 0; i < take; i++) {
                final LogLine l = expect.poll();
                assertArrayEquals(expected(l), poll(q, resume, reserved, 0));
                assertEquals(l.resumeOffset(), resume[0]);
                assertEquals(EventQueue.recordSize(l), reserved[0]);
            }
        }
        while (!expect.isEmpty()) {
            assertArrayEquals(expected(expect.poll()), poll(q, resume, reserved, 0));
        }
        assertNull(poll(q, resume, reserved, 0));
        assertFalse(q.commit(), "nothing staged");
        q.close();
        chunks.clear();
    }

    @Test
    void aDropDoesNotMoveTheResumeOffsetPastLinesStagedBeforeIt() {
        final long[] checkpointed = {-1};
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> checkpointed[0] = resume);
        final LogLine staged = line("kept", "stdout", 1, 10);
        q.stage(staged, EventQueue.recordSize(staged));
        final BufferBudget full = new BufferBudget(1);
        full.tryReserve(1);
        assertFalse(q.stageOrDrop(line("dropped", "stdout", 2, 20), full)); // the next line found the buffer full
        q.commit();
        assertEquals(0, q.confirmedResume(), "a replay must still start before the staged line");
        assertEquals(-1, checkpointed[0], "nothing to record");
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        assertArrayEquals(expected(staged), poll(q, resume, reserved, 0));
        q.confirmed(1, 1, resume[0]);
        assertEquals(10, q.confirmedResume());
        assertEquals(-1, checkpointed[0], "the publisher records confirmations after its flush, not the queue");
        assertFalse(q.stageOrDrop(line("dropped", "stdout", 3, 20), full)); // nothing waits now: the drop moves it
        q.commit();
        assertEquals(20, q.confirmedResume());
        assertEquals(20, checkpointed[0], "recorded at the read's commit: no flush follows a drop to record it");
        q.close();
    }

    @Test
    void aDiscardedEventMovesTheResumeOffsetOnlyWhenNothingBeforeItIsInFlight() {
        final java.util.List<Long> checkpointed = new java.util.ArrayList<>();
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, checkpointed::add);
        final LogLine[] lines = {line("a", "stdout", 1, 10), line("too big", "stdout", 2, 20),
            line("b", "stdout", 3, 30), line("too big too", "stdout", 4, 40)};
        for (final LogLine l : lines) {
            q.add(l, EventQueue.recordSize(l));
        }
        final long[] resume = new long[4];
        final int[] reserved = new int[4];
        for (int i = 0; i < 2; i++) {
            poll(q, resume, reserved, i);
        }
        q.discarded(100, resume[1]); // the first event is still in flight: a replay must start before it
        assertEquals(0, q.confirmedResume());
        assertEquals(java.util.List.of(), checkpointed);
        q.confirmed(1, 10, resume[0]);
        assertEquals(10, q.confirmedResume(), "up to the confirmed event, not past the discarded one");
        poll(q, resume, reserved, 2);
        q.confirmed(1, 10, resume[2]);
        assertEquals(30, q.confirmedResume());
        poll(q, resume, reserved, 3);
        q.discarded(100, resume[3]); // nothing before it waits
        assertEquals(40, q.confirmedResume());
        assertEquals(java.util.List.of(40L), checkpointed, "recorded at once: no flush confirms anything for it");
        assertEquals(2, q.dropped());
        assertEquals(0, q.waiting());
        q.close();
    }

    @Test
    void onceALineOfAReadIsDroppedTheRestOfTheReadIsToo() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final LogLine first = line("kept", "stdout", 1, 10);
        final LogLine second = line("dropped", "stdout", 2, 20);
        final LogLine third = line("dropped too", "stdout", 3, 30);
        final int room = EventQueue.recordSize(first) + EventQueue.recordSize(third);
        final BufferBudget budget = new BufferBudget(room);
        assertTrue(q.stageOrDrop(first, budget));
        final long rest = budget.capacity() - budget.used();
        assertTrue(budget.tryReserve(rest)); // another container fills the buffer
        assertFalse(q.stageOrDrop(second, budget), "no room for it");
        budget.release(rest); // room again, within the same read
        assertFalse(q.stageOrDrop(third, budget), "the rest of the read goes the way of its first dropped line");
        assertEquals(EventQueue.recordSize(first), budget.used(), "a dropped line reserves nothing");
        assertEquals(0, q.dropped(), "counted at the read's commit");
        assertTrue(q.commit());
        assertEquals(2, q.dropped());
        assertEquals(EventQueue.recordSize(second) + EventQueue.recordSize(third), q.droppedBytes());
        assertEquals(0, q.confirmedResume(), "the staged line before the drops still waits: a replay starts before it");
        final LogLine next = line("next read", "stdout", 4, 40);
        assertTrue(q.stageOrDrop(next, budget), "the next read asks the buffer again");
        q.commit();
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        assertArrayEquals(expected(first), poll(q, resume, reserved, 0));
        assertArrayEquals(expected(next), poll(q, resume, reserved, 0));
        assertNull(poll(q, resume, reserved, 0));
        q.close();
    }

    @Test
    void aLongLineWithoutRoomIsDroppedAloneShorterOnesAfterItStillGetIn() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final BufferBudget budget = new BufferBudget(20_000);
        final LogLine longLine = line("z".repeat(30_000), "stdout", 1, 10);
        final LogLine shortLine = line("short", "stdout", 2, 20);
        assertFalse(q.stageOrDrop(longLine, budget), "longer than the whole buffer");
        assertTrue(q.stageOrDrop(shortLine, budget), "the buffer is not full: the next line gets in");
        q.commit();
        assertEquals(1, q.dropped());
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        assertArrayEquals(expected(shortLine), poll(q, resume, reserved, 0));
        q.close();
    }

    @Test
    void aReadDroppedWholeWhileNothingWaitsMovesTheResumeOffsetPastItAtItsCommit() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final BufferBudget full = new BufferBudget(1);
        full.tryReserve(1);
        assertFalse(q.stageOrDrop(line("a", "stdout", 1, 10), full));
        assertFalse(q.stageOrDrop(line("b", "stdout", 2, 20), full));
        assertEquals(0, q.confirmedResume());
        assertFalse(q.commit(), "nothing for the publisher");
        assertEquals(20, q.confirmedResume(), "a replay need not start before lines that were dropped");
        assertEquals(2, q.dropped());
        q.close();
    }

    @Test
    void aLongLineAddedWhileStagingStillTellsTheCommitToWakeThePublisher() {
        final EventQueue q = new EventQueue("s", "web", 0, 0, PREFIX, CHUNKS, resume -> { });
        final LogLine longLine = line("z".repeat(40_000), "stdout", 1, 1);
        q.stage(longLine, EventQueue.recordSize(longLine)); // the last line of a read, and a long one
        assertEquals(1, q.waiting(), "a record longer than a chunk is added at once");
        assertTrue(q.commit(), "the read's commit must still have the publisher told");
        assertFalse(q.commit(), "once");
        final long[] resume = new long[1];
        final int[] reserved = new int[1];
        assertArrayEquals(expected(longLine), poll(q, resume, reserved, 0));
        q.close();
    }

    @Test
    void spareChunksNotNeededSinceTheLastTrimGoBackHalfAtATime() {
        final RecordChunks chunks = new RecordChunks(PooledByteBufAllocator.DEFAULT, 8);
        final ByteBuf[] taken = new ByteBuf[8];
        for (int i = 0; i < taken.length; i++) {
            taken[i] = chunks.take(10);
        }
        for (final ByteBuf c : taken) {
            chunks.give(c);
        }
        assertEquals(8, chunks.spares());
        assertEquals(0, chunks.trim(), "every spare was needed since the last trim: all kept");
        assertEquals(4, chunks.trim(), "none taken since: half go");
        assertEquals(4, chunks.spares());
        chunks.give(chunks.take(10));
        chunks.give(chunks.take(10));
        assertEquals(2, chunks.trim(), "one was needed at a time, three were not: half of those go");
        assertEquals(2, chunks.spares());
        final ByteBuf a = chunks.take(10);
        final ByteBuf b = chunks.take(10);
        chunks.give(a);
        chunks.give(b);
        assertEquals(0, chunks.trim(), "both needed at once: kept");
        assertEquals(1, chunks.trim());
        assertEquals(1, chunks.trim(), "the last one too");
        assertEquals(0, chunks.spares());
        assertEquals(0, chunks.trim());
        for (final ByteBuf c : taken) {
            assertEquals(0, c.refCnt(), "every spare went back to the allocator");
        }
        chunks.clear();
    }

    @Test
    void theSparesHoldAWholeBuffer() {
        assertEquals(4096, RecordChunks.DEFAULT_SPARES, "the default buffer, 32 MiB, in 8 KiB chunks");
        assertEquals(1, RecordChunks.sparesFor(1), "a buffer smaller than a chunk");
        assertEquals(RecordChunks.MAX_SPARES, RecordChunks.sparesFor(Long.MAX_VALUE));
    }
}
