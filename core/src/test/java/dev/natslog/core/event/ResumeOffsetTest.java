package dev.natslog.core.event;

import com.fasterxml.jackson.databind.JsonNode;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.core.testing.Frames;
import dev.natslog.core.testing.Frames.Entry;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash-recovery contract of {@link LogLine#resumeOffset()}: replaying the stream from the resume offset of
 * any event regenerates every event after it, in order (and possibly some before it, never fewer).
 */
class ResumeOffsetTest {
    /** An event: its text as shown in failures, the line it belongs to, its raw text, its resume offset. */
    record Event(String text, String line, String raw, long resume) {
    }

    static List<Event> decode(final byte[] stream, final int from, final int cap) {
        final List<Event> out = new ArrayList<>();
        try (LogStreamCodec codec = new LogStreamCodec(UnpooledByteBufAllocator.DEFAULT, "{".getBytes(),
            LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, cap, (e, resume) -> {
                final JsonNode n = JsonEventEncoderTest.parse(e);
                final String text = n.get("text").asText();
                final String line = n.has("partial_id") ? n.get("partial_id").asText()
                    : text.startsWith("split-") ? "id" + text.split("-")[1] : text;
                out.add(new Event(n.get("source").asText() + ":" + text
                    + (n.has("partial_ordinal") ? "#" + n.get("partial_ordinal").asInt() : ""), line, text, resume));
            })) {
            codec.decoder().position(from);
            codec.decode(Unpooled.wrappedBuffer(stream, from, stream.length - from));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void replayingFromAnyEventsResumeOffsetLosesNothingAfterIt(final int seed) {
        final Random r = new Random(seed);
        final List<byte[]> frames = new ArrayList<>();
        int split = 0;
        // interleave whole lines on both sources with split lines (chunks) on either source
        final List<List<Entry>> openLines = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            final String source = r.nextBoolean() ? "stdout" : "stderr";
            if (r.nextInt(4) == 0) {
                final int k = split++;
                final byte[] text = ("split-" + k + "-").repeat(1 + r.nextInt(20)).getBytes(StandardCharsets.UTF_8);
                final int chunks = 2 + r.nextInt(3);
                final List<Entry> line = new ArrayList<>();
                final int size = text.length / chunks + 1;
                for (int c = 0, off = 0; off < text.length; c++, off += size) {
                    final int end = Math.min(text.length, off + size);
                    line.add(Entry.chunk(source, i, Arrays.copyOfRange(text, off, end), "id" + k, c + 1, end == text.length));
                }
                openLines.add(line);
            } else {
                frames.add(Frames.frame(Entry.of(source, i, "whole-" + i)));
            }
            // feed some chunks of the open split lines
            for (int k = openLines.size() - 1; k >= 0; k--) {
                if (r.nextBoolean()) {
                    frames.add(Frames.frame(openLines.get(k).remove(0)));
                    if (openLines.get(k).isEmpty()) {
                        openLines.remove(k);
                    }
                }
            }
        }
        for (final List<Entry> line : openLines) {
            line.forEach(e -> frames.add(Frames.frame(e)));
        }
        final byte[] stream = Frames.stream(frames);
        for (final int cap : new int[] {LineAssembler.DEFAULT_MAX_LINE_LENGTH, 60}) {
            final List<Event> all = decode(stream, 0, cap);
            assertTrue(all.size() > 200);
            for (int i = 0; i < all.size(); i++) {
                final long resume = all.get(i).resume();
                assertTrue(resume >= 0 && resume <= stream.length);
                final List<Event> replayed = decode(stream, (int) resume, cap);
                final List<Event> after = all.subList(i + 1, all.size());
                if (cap == LineAssembler.DEFAULT_MAX_LINE_LENGTH) {
                    // no cap in play: the replay ends with exactly the events that came after
                    final List<String> r2 = replayed.stream().map(Event::text).toList();
                    final List<String> a2 = after.stream().map(Event::text).toList();
                    assertTrue(r2.size() >= a2.size(), "event " + i + ": replay too short");
                    assertEquals(a2, r2.subList(r2.size() - a2.size(), r2.size()), "event " + i + " (resume " + resume + ")");
                } else {
                    // pieces of a capped line may be regrouped by a replay; what matters is that every byte of
                    // every line after the event is sent again, in order
                    for (final String line : after.stream().map(Event::line).distinct().toList()) {
                        final String want = after.stream().filter(e -> e.line().equals(line)).map(Event::raw)
                            .reduce("", String::concat);
                        final String got = replayed.stream().filter(e -> e.line().equals(line)).map(Event::raw)
                            .reduce("", String::concat);
                        assertTrue(got.endsWith(want), "cap " + cap + ", event " + i + ", line " + line
                            + ": replayed '" + got + "' does not end with '" + want + "'");
                    }
                }
            }
        }
    }
}
