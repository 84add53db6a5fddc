package dev.natslog.core.frame;

import dev.natslog.core.testing.Feeder;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.TrackingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameDecoderTest {
    private static final int MAX = LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH;

    private final TrackingAllocator allocator = new TrackingAllocator();
    private final List<Entry> decoded = new ArrayList<>();
    private final FrameDecoder decoder = new FrameDecoder(allocator, MAX, e -> decoded.add(copy(e)));

    @AfterEach
    void releasesEverything() {
        decoder.close();
        allocator.assertAllReleased();
    }

    /** What the decoder saw, with proto3 defaults filled in, in the shape of the reference encoder's input. */
    static Entry copy(final LogEntry e) {
        final ByteBuf b = e.buffer();
        return new Entry(
            b.toString(e.sourceOffset(), e.sourceLength(), StandardCharsets.UTF_8),
            e.timeNano(),
            ByteBufUtil.getBytes(b, e.lineOffset(), e.lineLength()),
            e.partial(),
            e.hasPartialMetadata() ? e.partialLast() : null,
            e.hasPartialMetadata() ? b.toString(e.partialIdOffset(), e.partialIdLength(), StandardCharsets.UTF_8) : null,
            e.hasPartialMetadata() ? e.partialOrdinal() : null);
    }

    /** The reference encoder's entry with proto3 defaults for what it left out. */
    static Entry withDefaults(final Entry e) {
        final boolean meta = e.hasMetadata();
        return new Entry(
            null == e.source() ? "" : e.source(),
            null == e.timeNano() ? 0L : e.timeNano(),
            null == e.line() ? new byte[0] : e.line(),
            null != e.partial() && e.partial(),
            meta ? null != e.last() && e.last() : null,
            meta ? (null == e.id() ? "" : e.id()) : null,
            meta ? (null == e.ordinal() ? 0 : e.ordinal()) : null);
    }

    static void assertSameEntry(final Entry expected, final Entry actual, final String where) {
        final Entry e = withDefaults(expected);
        assertEquals(e.source(), actual.source(), where + ": source");
        assertEquals(e.timeNano(), actual.timeNano(), where + ": time_nano");
        assertArrayEquals(e.line(), actual.line(), where + ": line");
        assertEquals(e.partial(), actual.partial(), where + ": partial");
        assertEquals(e.last(), actual.last(), where + ": metadata.last");
        assertEquals(e.id(), actual.id(), where + ": metadata.id");
        assertEquals(e.ordinal(), actual.ordinal(), where + ": metadata.ordinal");
    }

    static Entry randomEntry(final Random r) {
        return randomEntry(r, 10);
    }

    /** @param longOneIn one entry in this many has a line over 16 KiB. */
    static Entry randomEntry(final Random r, final int longOneIn) {
        final byte[] line = new byte[r.nextInt(longOneIn) == 0 ? 16 * 1024 + r.nextInt(100) : r.nextInt(300)];
        r.nextBytes(line);
        final boolean meta = r.nextBoolean();
        return new Entry(
            r.nextBoolean() ? (r.nextBoolean() ? "stdout" : "stderr") : null,
            r.nextBoolean() ? r.nextLong() : null,
            r.nextInt(5) == 0 ? null : line,
            r.nextBoolean() ? r.nextBoolean() : null,
            meta && r.nextBoolean() ? r.nextBoolean() : null,
            meta && r.nextBoolean() ? Long.toHexString(r.nextLong()) : null,
            meta && r.nextBoolean() ? r.nextInt() : null);
    }

    @Test
    void decodesTheExampleFrameOfTheProtocolNotes() {
        final byte[] frame = ByteBufUtil.decodeHexDump(
            "000000190a067374646f7574" + "10959a97ece39fe7cb17" + "1a0568656c6c6f");
        decoder.decode(Unpooled.wrappedBuffer(frame));
        assertEquals(1, decoded.size());
        assertSameEntry(Entry.of("stdout", 1_700_000_000_123_456_789L, "hello"), decoded.get(0), "example");
        assertEquals(0, decoder.bytesSkipped());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 4096, 65536})
    void randomEntriesInRandomReadSplitsAgreeFieldByField(final int maxRead) {
        final Random r = new Random(maxRead);
        final List<Entry> sent = new ArrayList<>();
        final List<byte[]> frames = new ArrayList<>();
        final boolean tinyReads = maxRead < 100;
        for (int i = 0; i < (tinyReads ? 300 : 2000); i++) {
            final Entry e = randomEntry(r, tinyReads ? 100 : 10);
            sent.add(e);
            frames.add(Frames.frame(e, r.nextBoolean() ? r : null, r.nextInt(3) == 0));
        }
        Feeder.feed(Frames.stream(frames), r, maxRead, decoder::decode);
        decoder.decodeLast();

        assertEquals(sent.size(), decoded.size());
        for (int i = 0; i < sent.size(); i++) {
            assertSameEntry(sent.get(i), decoded.get(i), "entry " + i);
        }
        assertEquals(0, decoder.bytesSkipped());
        assertEquals(0, decoder.corruptions());
    }

    @Test
    void aStreamSplitInTwoAtEveryByteDecodesTheSame() {
        final Random r = new Random(7);
        final List<Entry> sent = List.of(Entry.of("stdout", 1, "a"), randomEntry(r), Entry.of("stderr", 3, ""),
            Entry.chunk("stdout", 4, "xyz".getBytes(StandardCharsets.UTF_8), "id-1", 2, true));
        final byte[] stream = Frames.stream(sent.stream().map(e -> Frames.frame(e, r, true)).toList());
        for (int split = 0; split <= stream.length; split++) {
            decoded.clear();
            decoder.decode(Unpooled.wrappedBuffer(stream, 0, split));
            decoder.decode(Unpooled.wrappedBuffer(stream, split, stream.length - split));
            assertEquals(sent.size(), decoded.size(), "split at " + split);
            for (int i = 0; i < sent.size(); i++) {
                assertSameEntry(sent.get(i), decoded.get(i), "split at " + split + ", entry " + i);
            }
        }
    }

    @Test
    void framesInOneReadAreDecodedInPlaceWithoutAnyBuffer() {
        final byte[] stream = Frames.stream(List.of(Frames.frame(Entry.of("stdout", 1, "one")),
            Frames.frame(Entry.of("stdout", 2, "two"))));
        decoder.decode(Unpooled.wrappedBuffer(stream));
        assertEquals(2, decoded.size());
        assertEquals(0, allocator.allocations(), "no cumulation buffer for whole frames");
    }

    @Test
    void anIdleStreamHoldsNoBufferOnceAStraddlingFrameIsComplete() {
        final byte[] frame = Frames.frame(Entry.of("stdout", 1, "straddling"));
        decoder.decode(Unpooled.wrappedBuffer(frame, 0, 10));
        assertEquals(1, allocator.live());
        decoder.decode(Unpooled.wrappedBuffer(frame, 10, frame.length - 10));
        assertEquals(1, decoded.size());
        assertEquals(0, allocator.live(), "the cumulation is released as soon as it is empty");
    }

    @Test
    void garbageBeforeValidFramesIsSkippedAndCounted() {
        final Random r = new Random(11);
        final byte[] garbage = new byte[5000];
        r.nextBytes(garbage);
        garbage[0] = (byte) 0xFF; // an absurd length first, whatever the seed gives
        final List<Entry> valid = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            valid.add(Entry.of(i % 2 == 0 ? "stdout" : "stderr", 1_700_000_000_000_000_000L + i, "line " + i));
        }
        final byte[] stream = Frames.stream(List.of(garbage,
            Frames.stream(valid.stream().map(Frames::frame).toList())));
        Feeder.feed(stream, r, 700, decoder::decode);
        decoder.decodeLast();

        assertTrue(decoder.corruptions() >= 1);
        assertTrue(decoded.size() >= valid.size());
        final List<Entry> tail = decoded.subList(decoded.size() - valid.size(), decoded.size());
        for (int i = 0; i < valid.size(); i++) {
            assertSameEntry(valid.get(i), tail.get(i), "valid frame " + i + " after garbage");
        }
        if (decoded.size() == valid.size()) {
            assertEquals(garbage.length, decoder.bytesSkipped());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0xFFFFFFFF, 0x7FFFFFFF, MAX + 1, 0x00200000})
    void anAbsurdLengthIsNeverAllocatedAndTheNextFrameIsFound(final int length) {
        final byte[] bogus = ByteBuffer.allocate(4).putInt(length).array();
        final byte[] good = Frames.frame(Entry.of("stdout", 42, "after the bogus header"));
        final byte[] stream = Frames.stream(List.of(Frames.frame(Entry.of("stdout", 41, "before")), bogus, good));
        Feeder.feed(stream, new Random(length), 9, decoder::decode);
        decoder.decodeLast();

        assertEquals(2, decoded.size());
        assertSameEntry(Entry.of("stdout", 42, "after the bogus header"), decoded.get(1), "after");
        assertEquals(4, decoder.bytesSkipped());
        assertEquals(1, decoder.corruptions());
    }

    @Test
    void aFieldRunningPastItsFrameIsCorruptionAndTheNextFrameIsFound() {
        // frame of 6 bytes whose line field claims 100 bytes
        final byte[] overrun = {0, 0, 0, 6, 0x1A, 100, 'a', 'b', 'c', 'd'};
        final byte[] stream = Frames.stream(List.of(overrun, Frames.frame(Entry.of("stderr", 7, "next"))));
        decoder.decode(Unpooled.wrappedBuffer(stream));
        decoder.decodeLast();

        assertEquals(1, decoded.size());
        assertSameEntry(Entry.of("stderr", 7, "next"), decoded.get(0), "next");
        assertEquals(overrun.length, decoder.bytesSkipped());
    }

    @Test
    void malformedBodiesAreCorruption() {
        final byte[][] bodies = {
            {0x0B, 0x00},                               // wire type 3 (group)
            {0x0F, 0x00},                               // wire type 7
            {0x02, 0x00},                               // field number 0
            {0x12, 0x01, 0x00},                         // time_nano with wire type LEN
            {0x10, (byte) 0x80, (byte) 0x80},           // varint running past the frame
            {0x10, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}, // varint of 11 bytes
            {0x2A, 0x02, 0x12, 0x05},                   // metadata id running past the metadata
            {0x31, 1, 2, 3},                            // fixed64 running past the frame
        };
        for (final byte[] body : bodies) {
            final LogEntry e = new LogEntry();
            assertEquals(false, e.wrap(Unpooled.wrappedBuffer(body), 0, body.length), Arrays.toString(body));
        }
    }

    @Test
    void aFrameTruncatedByTheEndOfTheStreamIsCountedNotThrown() {
        final byte[] frame = Frames.frame(Entry.of("stdout", 5, "cut short"));
        final byte[] stream = Frames.stream(List.of(Frames.frame(Entry.of("stdout", 4, "whole")),
            Arrays.copyOf(frame, frame.length - 3)));
        decoder.decode(Unpooled.wrappedBuffer(stream));
        decoder.decodeLast();

        assertEquals(1, decoded.size());
        assertEquals(frame.length - 3, decoder.bytesSkipped());
    }

    @Test
    void framesAfterTheClaimedEndOfATruncatedFrameAreFoundAgain() {
        final byte[] cut = Frames.frame(Entry.of("stdout", 5, "x".repeat(200)));
        final int claimedEnd = cut.length; // the header still claims the whole frame
        final List<byte[]> afterFrames = new ArrayList<>();
        final List<Entry> expected = new ArrayList<>();
        int offset = 60;
        for (int i = 0; i < 20; i++) {
            final Entry e = Entry.of("stdout", 100 + i, "after " + i);
            afterFrames.add(Frames.frame(e));
            if (offset >= claimedEnd) {
                expected.add(e); // a frame inside the claimed body may be taken for line bytes: no decoder can tell
            }
            offset += afterFrames.get(i).length;
        }
        final byte[] stream = Frames.stream(List.of(Arrays.copyOf(cut, 60), Frames.stream(afterFrames)));
        Feeder.feed(stream, new Random(3), 50, decoder::decode);
        decoder.decodeLast();

        assertTrue(expected.size() >= 10);
        final List<Entry> tail = decoded.subList(decoded.size() - expected.size(), decoded.size());
        for (int i = 0; i < expected.size(); i++) {
            assertSameEntry(expected.get(i), tail.get(i), "frame " + i + " after the truncated one");
        }
    }

    @Test
    void aTruncatedFrameWhoseClaimedBodyDoesNotParseIsResyncedPast() {
        // cut inside the source: the claimed body then holds the next frame's header, which is no protobuf field
        final byte[] cut = Arrays.copyOf(Frames.frame(Entry.of("stdout", 5, "y".repeat(30))), 10);
        final List<Entry> after = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            after.add(new Entry("stderr", 100L + i, new byte[0], null, null, null, null));
        }
        final byte[] stream = Frames.stream(List.of(cut, Frames.stream(after.stream().map(Frames::frame).toList())));
        decoder.decode(Unpooled.wrappedBuffer(stream));
        decoder.decodeLast();

        assertEquals(after.size(), decoded.size());
        for (int i = 0; i < after.size(); i++) {
            assertSameEntry(after.get(i), decoded.get(i), "frame " + i);
        }
        assertEquals(cut.length, decoder.bytesSkipped());
        assertEquals(1, decoder.corruptions());
    }

    @Test
    void randomBytesNeverThrowNeverHangAndStayBounded() {
        final Random r = new Random(99);
        final byte[] noise = new byte[3 * 1024 * 1024];
        r.nextBytes(noise);
        Feeder.feed(noise, r, 65536, decoder::decode);
        decoder.decodeLast();
        final byte[] good = Frames.frame(Entry.of("stdout", 1, "still alive"));
        decoded.clear();
        decoder.decode(Unpooled.wrappedBuffer(good));
        assertEquals(1, decoded.size(), "a valid frame decodes after 3 MB of noise");
        assertTrue(decoder.bytesSkipped() > noise.length / 2);
    }

    @Test
    void aThrowingHandlerDoesNotStopTheDecoder() {
        final List<Long> seen = new ArrayList<>();
        try (FrameDecoder d = new FrameDecoder(allocator, MAX, e -> {
            seen.add(e.timeNano());
            if (e.timeNano() == 2) {
                throw new IllegalStateException("boom");
            }
        })) {
            final byte[] stream = Frames.stream(List.of(Frames.frame(Entry.of("stdout", 1, "a")),
                Frames.frame(Entry.of("stdout", 2, "b")), Frames.frame(Entry.of("stdout", 3, "c"))));
            d.decode(Unpooled.wrappedBuffer(stream));
            assertEquals(List.of(1L, 2L, 3L), seen);
            assertEquals(1, d.handlerFailures());
            assertEquals("boom", d.lastHandlerFailure().getMessage());
        }
    }

    @Test
    void sourceIsStderrOnlyForExactlyStderr() {
        for (final String source : List.of("stdout", "stderr", "stderx", "std", "")) {
            final byte[] frame = Frames.frame(Entry.of(source, 1, "x"));
            final LogEntry e = new LogEntry();
            assertTrue(e.wrap(Unpooled.wrappedBuffer(frame), 4, frame.length - 4));
            assertEquals(source.equals("stderr"), e.sourceIsStderr(), source);
        }
    }

    /**
     * time_nano and the metadata's ordinal at every varint length (1 to 10 bytes: 0, 2^k - 1, 2^k, negatives), with
     * 0 to 10 bytes of other fields after them, so that each varint is read both as one 8-byte word (and its 9th
     * and 10th bytes after it) and byte by byte near its frame's or its metadata's end; the frame lies inside a
     * larger buffer with bytes after it that must not be read.
     */
    @Test
    void varintsOfEveryLengthAgreeWithProtobufJavaWhateverFollowsThem() throws java.io.IOException {
        final List<Long> values = new ArrayList<>(List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE));
        for (int k = 1; k < 64; k++) {
            values.addAll(List.of((1L << k) - 1, 1L << k, -(1L << k)));
        }
        int checked = 0;
        for (final long value : values) {
            for (int after = 0; after <= 10; after++) {
                final byte[] tail = new byte[after];
                Arrays.fill(tail, (byte) 'x');
                final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                final com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
                out.writeInt64(2, value);
                if (after >= 2) {
                    out.writeByteArray(3, Arrays.copyOf(tail, after - 2)); // tag, length, after - 2 bytes
                }
                final java.io.ByteArrayOutputStream meta = new java.io.ByteArrayOutputStream();
                final com.google.protobuf.CodedOutputStream m = com.google.protobuf.CodedOutputStream.newInstance(meta);
                m.writeInt32(3, (int) value);
                if (after >= 2) {
                    m.writeByteArray(2, Arrays.copyOf(tail, after - 2));
                }
                m.flush();
                out.writeByteArray(5, meta.toByteArray());
                out.flush();
                final byte[] body = bytes.toByteArray();
                final byte[] buffer = new byte[3 + body.length + 16];
                Arrays.fill(buffer, (byte) 0xFF); // continuation bytes: a read past the frame would change the value
                System.arraycopy(body, 0, buffer, 3, body.length);
                final LogEntry e = new LogEntry();
                assertTrue(e.wrap(Unpooled.wrappedBuffer(buffer), 3, body.length), value + " then " + after);
                assertEquals(value, e.timeNano(), "time_nano " + value + " then " + after);
                assertEquals((int) value, e.partialOrdinal(), "ordinal " + (int) value + " then " + after);
                assertEquals(Math.max(0, after - 2), e.lineLength());
                checked++;
            }
        }
        assertEquals((4 + 3 * 63) * 11, checked);
    }

    @Test
    void aVarintWithMoreThanTenBytesIsCorruptionWhereverItEnds() {
        for (int extra = 0; extra <= 9; extra++) {
            final byte[] body = new byte[1 + 11 + extra];
            Arrays.fill(body, (byte) 0x80);
            body[0] = 0x10; // time_nano, a varint of 11 bytes (the last without its continuation bit)
            body[11] = 0x01;
            for (int k = 12; k < body.length; k++) {
                body[k] = 0x00;
            }
            assertEquals(false, new LogEntry().wrap(Unpooled.wrappedBuffer(body), 0, body.length), "then " + extra);
        }
    }
}
