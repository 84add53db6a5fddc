package dev.natslog.core.event;

import com.fasterxml.jackson.databind.JsonNode;
import dev.natslog.core.config.LogOptions;
import dev.natslog.core.config.StreamSettings;
import dev.natslog.core.config.StreamSettingsTest;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.core.testing.Feeder;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import dev.natslog.core.testing.TrackingAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogStreamCodecTest {
    private final TrackingAllocator allocator = new TrackingAllocator();
    private final List<byte[]> events = new ArrayList<>();
    private final StreamSettings settings = StreamSettings.resolve(StreamSettingsTest.info(Map.of()),
        LogOptions.parse(Map.of()), "h1");
    private final LogStreamCodec codec = new LogStreamCodec(allocator, settings.eventPrefix(),
        LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, LineAssembler.DEFAULT_MAX_LINE_LENGTH, (e, resume) -> events.add(e));

    @AfterEach
    void releasesEverything() {
        codec.close();
        codec.close();
        allocator.assertAllReleased();
    }

    @Test
    void fifoBytesBecomeOneEventPerLineInOrder() {
        final Random r = new Random(4);
        final List<byte[]> frames = new ArrayList<>();
        final List<String> expected = new ArrayList<>();
        final byte[] big = new byte[40_000];
        Arrays.fill(big, (byte) 'B');
        for (int i = 0; i < 5000; i++) {
            if (i == 2500) {
                // a 40 000-byte line, cut by dockerd into 16 KiB chunks
                for (int off = 0, ord = 1; off < big.length; off += 16_384, ord++) {
                    final int end = Math.min(big.length, off + 16_384);
                    frames.add(Frames.frame(Entry.chunk("stdout", 77, Arrays.copyOfRange(big, off, end), "big", ord,
                        end == big.length)));
                }
                expected.add(new String(big, StandardCharsets.US_ASCII));
                continue;
            }
            final String line = "line " + i + (i % 7 == 0 ? "\t\"quoted\"" : "");
            frames.add(Frames.frame(Entry.of(i % 3 == 0 ? "stderr" : "stdout", 1_700_000_000_000_000_000L + i, line)));
            expected.add(line);
        }
        Feeder.feed(Frames.stream(frames), r, 65_536, codec::decode);
        codec.finish();

        assertEquals(expected.size(), events.size());
        for (int i = 0; i < expected.size(); i++) {
            final JsonNode e = JsonEventEncoderTest.parse(events.get(i));
            assertEquals(expected.get(i), e.get("text").asText(), "event " + i);
            assertEquals("b2e0aaaaaaaa", e.get("tag").asText());
        }
        assertEquals(expected.size(), codec.events());
        assertEquals(events.stream().mapToLong(b -> b.length).sum(), codec.eventBytes());
        assertEquals(0, codec.pieces());
        assertEquals(0, codec.decoder().bytesSkipped());
    }

    @Test
    void corruptionInTheMiddleLosesOnlyTheCorruptBytes() {
        final byte[] garbage = {0x7F, (byte) 0xFF, 0x00, 0x13, 0x37, 0x42};
        final byte[] stream = Frames.stream(List.of(Frames.frame(Entry.of("stdout", 1, "before")), garbage,
            Frames.frame(Entry.of("stdout", 2, "after"))));
        Feeder.feed(stream, new Random(1), 3, codec::decode);
        codec.finish();
        assertEquals(2, events.size());
        assertEquals("after", JsonEventEncoderTest.parse(events.get(1)).get("text").asText());
        assertEquals(garbage.length, codec.decoder().bytesSkipped());
        assertEquals(1, codec.decoder().corruptions());
    }

    @Test
    void theEndOfTheStreamFlushesAnUnfinishedLineAsAPiece() {
        final byte[] stream = Frames.stream(List.of(
            Frames.frame(Entry.chunk("stderr", 9, "half a line".getBytes(StandardCharsets.UTF_8), "p", 1, false))));
        codec.decode(io.netty.buffer.Unpooled.wrappedBuffer(stream));
        assertEquals(0, events.size());
        codec.finish();
        assertEquals(1, events.size());
        final JsonNode e = JsonEventEncoderTest.parse(events.get(0));
        assertEquals("half a line", e.get("text").asText());
        assertEquals("stderr", e.get("source").asText());
        assertTrue(e.get("partial_message").asBoolean());
        assertEquals(1, codec.pieces());
    }
}
