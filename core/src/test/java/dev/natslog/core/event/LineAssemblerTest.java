package dev.natslog.core.event;

import dev.natslog.core.frame.FrameDecoder;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.core.testing.Feeder;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.TrackingAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LineAssemblerTest {
    /** What the sink saw. */
    record Line(String source, long time, byte[] text, boolean partial, String id, int ordinal, boolean last) {
        String textAsString() {
            return new String(text, StandardCharsets.UTF_8);
        }
    }

    private final TrackingAllocator allocator = new TrackingAllocator();
    private final List<Line> lines = new ArrayList<>();
    private LineAssembler assembler = assembler(LineAssembler.DEFAULT_MAX_LINE_LENGTH);

    private LineAssembler assembler(final int cap) {
        return new LineAssembler(allocator, cap, l -> lines.add(new Line(
            l.source().toString(l.sourceOffset(), l.sourceLength(), StandardCharsets.UTF_8),
            l.timeNano(),
            ByteBufUtil.getBytes(l.text(), l.textOffset(), l.textLength()),
            l.partial(),
            l.partial() ? l.partialId().toString(l.partialIdOffset(), l.partialIdLength(), StandardCharsets.UTF_8) : null,
            l.partial() ? l.partialOrdinal() : 0,
            l.partial() && l.partialLast())));
    }

    @AfterEach
    void releasesEverything() {
        assembler.close();
        allocator.assertAllReleased();
    }

    private void feed(final Entry... entries) {
        try (FrameDecoder decoder = new FrameDecoder(allocator, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, assembler)) {
            final byte[] stream = Frames.stream(Arrays.stream(entries).map(Frames::frame).toList());
            Feeder.feed(stream, new Random(entries.length), 5000, decoder::decode);
        }
    }

    /** Chunks of {@code text} as dockerd cuts them: 16 KiB each, every one partial, the last one last. */
    private static List<Entry> chunks(final String source, final long time, final byte[] text, final String id, final int size) {
        final List<Entry> out = new ArrayList<>();
        for (int off = 0, ordinal = 1; off < text.length; off += size, ordinal++) {
            final int end = Math.min(text.length, off + size);
            out.add(Entry.chunk(source, time, Arrays.copyOfRange(text, off, end), id, ordinal, end == text.length));
        }
        return out;
    }

    private static byte[] bytes(final int n, final long seed) {
        final byte[] b = new byte[n];
        final Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + r.nextInt(26));
        }
        return b;
    }

    @Test
    void wholeLinesPassStraightThrough() {
        feed(Entry.of("stdout", 1, "one"), Entry.of("stderr", 2, "two"));
        assertEquals(2, lines.size());
        assertEquals("one", lines.get(0).textAsString());
        assertEquals("stderr", lines.get(1).source());
        assertEquals(false, lines.get(1).partial());
        assertEquals(0, allocator.allocations(), "no buffer for whole lines");
    }

    @Test
    void chunksInOrderBecomeOneLineWithTheFirstChunksTime() {
        final byte[] text = bytes(40_000, 1);
        final List<Entry> cs = chunks("stdout", 100, text, "p1", 16 * 1024);
        final List<Entry> timed = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            final Entry c = cs.get(i);
            timed.add(new Entry(c.source(), 100L + i, c.line(), c.partial(), c.last(), c.id(), c.ordinal()));
        }
        feed(timed.toArray(Entry[]::new));
        assertEquals(1, lines.size());
        assertArrayEquals(text, lines.get(0).text());
        assertEquals(100, lines.get(0).time());
        assertEquals(false, lines.get(0).partial());
    }

    @Test
    void stdoutAndStderrInterleaveWithASplitLineAndStayApart() {
        final byte[] out = bytes(35_000, 2);
        final byte[] err = bytes(20_000, 3);
        final List<Entry> o = chunks("stdout", 10, out, "out-id", 16 * 1024);
        final List<Entry> e = chunks("stderr", 20, err, "err-id", 16 * 1024);
        feed(o.get(0), e.get(0), Entry.of("stdout", 15, "short"), o.get(1), e.get(1), o.get(2));
        assertEquals(3, lines.size());
        assertEquals("short", lines.get(0).textAsString());
        assertEquals("stderr", lines.get(1).source());
        assertArrayEquals(err, lines.get(1).text());
        assertEquals(20, lines.get(1).time());
        assertEquals("stdout", lines.get(2).source());
        assertArrayEquals(out, lines.get(2).text());
        assertEquals(10, lines.get(2).time());
    }

    @Test
    void pastTheCapWhatWasGatheredIsEmittedAsAPieceAndGatheringCarriesOn() {
        assembler.close();
        assembler = assembler(25_000);
        final byte[] text = bytes(16_384 * 4, 4);
        feed(chunks("stdout", 7, text, "big", 16_384).toArray(Entry[]::new));

        // 25 000 holds one chunk; each next chunk would pass the cap, so each piece is one chunk
        assertEquals(4, lines.size());
        final ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < lines.size(); i++) {
            final Line l = lines.get(i);
            assertEquals(true, l.partial(), "piece " + i);
            assertEquals("big", l.id());
            assertEquals(i + 1, l.ordinal());
            assertEquals(i == 3, l.last(), "only the final piece is last");
            assertEquals(7, l.time());
            joined.writeBytes(l.text());
        }
        assertArrayEquals(text, joined.toByteArray(), "nothing lost, nothing repeated");
    }

    @Test
    void theDefaultCapIsOneMebibyte() {
        final byte[] text = bytes(1024 * 1024 + 16_384 * 3, 5);
        feed(chunks("stdout", 1, text, "huge", 16_384).toArray(Entry[]::new));
        assertEquals(2, lines.size());
        assertEquals(1024 * 1024, lines.get(0).text().length);
        assertEquals(false, lines.get(0).last());
        assertEquals(64, lines.get(0).ordinal());
        assertEquals(true, lines.get(1).last());
        assertEquals(67, lines.get(1).ordinal());
    }

    @Test
    void aChunkLargerThanTheCapIsPassedOnAsAPieceOfItsOwn() {
        assembler.close();
        assembler = assembler(100);
        feed(Entry.chunk("stdout", 1, bytes(50, 6), "x", 1, false),
            Entry.chunk("stdout", 1, bytes(300, 7), "x", 2, false),
            Entry.chunk("stdout", 1, bytes(30, 8), "x", 3, true));
        assertEquals(3, lines.size());
        assertEquals(List.of(50, 300, 30), lines.stream().map(l -> l.text().length).toList());
        assertEquals(List.of(1, 2, 3), lines.stream().map(Line::ordinal).toList());
        assertEquals(List.of(false, false, true), lines.stream().map(Line::last).toList());
    }

    @Test
    void theStreamEndingMidLineEmitsWhatWasGatheredAsAPiece() {
        final byte[] text = bytes(20_000, 9);
        final List<Entry> cs = chunks("stdout", 3, text, "cut", 16_384);
        feed(cs.get(0));
        assertEquals(0, lines.size());
        assembler.finish();
        assertEquals(1, lines.size());
        assertEquals(true, lines.get(0).partial());
        assertEquals("cut", lines.get(0).id());
        assertEquals(1, lines.get(0).ordinal());
        assertEquals(false, lines.get(0).last());
        assertArrayEquals(Arrays.copyOf(text, 16_384), lines.get(0).text());
    }

    @Test
    void dockersUnterminatedTailAtExitArrivesAsAPiece() {
        // a container printing "no newline" and exiting: one partial chunk, last=false, nothing after it
        feed(Entry.chunk("stdout", 5, "no newline".getBytes(StandardCharsets.UTF_8), "tail", 1, false));
        assembler.finish();
        assertEquals(1, lines.size());
        assertEquals("no newline", lines.get(0).textAsString());
        assertEquals(true, lines.get(0).partial());
    }

    @Test
    void aLineMissingItsFirstChunksIsMarkedAsAPiece() {
        // e.g. the plugin restarted in the middle of a long line
        feed(Entry.chunk("stdout", 5, bytes(10, 10), "late", 3, false), Entry.chunk("stdout", 5, bytes(10, 11), "late", 4, true));
        assertEquals(1, lines.size());
        assertEquals(true, lines.get(0).partial());
        assertEquals(true, lines.get(0).last());
        assertEquals(4, lines.get(0).ordinal());
    }

    @Test
    void oneChunkWithLastIsAWholeLine() {
        feed(Entry.chunk("stderr", 5, "whole".getBytes(StandardCharsets.UTF_8), "one", 1, true));
        assertEquals(1, lines.size());
        assertEquals(false, lines.get(0).partial());
        assertEquals("whole", lines.get(0).textAsString());
    }

    @Test
    void chunksWithoutMetadataAreJoinedPerSourceLikeOldEngines() {
        feed(new Entry("stdout", 1L, "abc".getBytes(StandardCharsets.UTF_8), true, null, null, null),
            new Entry("stderr", 2L, "E".getBytes(StandardCharsets.UTF_8), null, null, null, null),
            new Entry("stdout", 3L, "def".getBytes(StandardCharsets.UTF_8), true, null, null, null),
            new Entry("stdout", 4L, "ghi".getBytes(StandardCharsets.UTF_8), null, null, null, null));
        assertEquals(2, lines.size());
        assertEquals("E", lines.get(0).textAsString());
        assertEquals("abcdefghi", lines.get(1).textAsString());
        assertEquals(1, lines.get(1).time());
        assertEquals(false, lines.get(1).partial());
    }

    @Test
    void moreOpenLinesThanSlotsPushOutTheLeastRecentlyFedAsAPiece() {
        final List<Entry> entries = new ArrayList<>();
        for (int i = 0; i <= LineAssembler.MAX_PENDING_LINES; i++) {
            entries.add(Entry.chunk("stdout", i, ("part-" + i).getBytes(StandardCharsets.UTF_8), "id-" + i, 1, false));
        }
        feed(entries.toArray(Entry[]::new));
        assertEquals(1, lines.size());
        assertEquals("id-0", lines.get(0).id());
        assertEquals(true, lines.get(0).partial());
        assembler.finish();
        assertEquals(LineAssembler.MAX_PENDING_LINES + 1, lines.size());
    }

    @Test
    void closeWithoutFinishReleasesGatheredBuffers() {
        feed(Entry.chunk("stdout", 5, bytes(100, 12), "open", 1, false));
        assembler.close();
        assembler.close();
        assertEquals(0, allocator.live());
    }

    @Test
    void piecesAreCounted() {
        assembler.onEntry(decodeOne(Entry.chunk("stdout", 1, bytes(5, 1), "a", 1, false)));
        assembler.finish();
        assertEquals(1, assembler.piecesEmitted());
    }

    private dev.natslog.core.frame.LogEntry decodeOne(final Entry e) {
        final byte[] frame = Frames.frame(e);
        final dev.natslog.core.frame.LogEntry entry = new dev.natslog.core.frame.LogEntry();
        entry.wrap(Unpooled.wrappedBuffer(frame), 4, frame.length - 4);
        return entry;
    }
}
