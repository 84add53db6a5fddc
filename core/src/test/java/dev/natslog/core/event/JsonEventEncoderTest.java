package dev.natslog.core.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.natslog.core.testing.TrackingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class JsonEventEncoderTest {
    /** Strict: duplicate keys, trailing tokens, unescaped control characters and bad UTF-8 all fail. */
    static final ObjectMapper STRICT = JsonMapper.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(JsonParser.Feature.ALLOW_UNQUOTED_CONTROL_CHARS)
        .build();

    static final Map<String, String> META = meta();

    private final TrackingAllocator allocator = new TrackingAllocator();
    private final JsonEventEncoder encoder = new JsonEventEncoder(JsonEventEncoder.renderPrefix(META), allocator);
    private final LogLine line = new LogLine();

    @AfterEach
    void releasesEverything() {
        encoder.close();
        allocator.assertAllReleased();
    }

    private static Map<String, String> meta() {
        final Map<String, String> m = new LinkedHashMap<>();
        m.put("container_id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        m.put("container_name", "web");
        m.put("image_id", "sha256:abc");
        m.put("image_name", "nginx:1.27");
        m.put("hostname", "h1");
        m.put("tag", "0123456789ab");
        return m;
    }

    /** Parses strictly after checking the bytes are valid UTF-8. */
    static JsonNode parse(final byte[] event) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(event));
            return STRICT.readTree(event);
        } catch (final CharacterCodingException e) {
            throw new AssertionError("event is not valid UTF-8", e);
        } catch (final Exception e) {
            throw new AssertionError("event is not strict JSON: " + new String(event, StandardCharsets.UTF_8), e);
        }
    }

    private static ByteBuf ascii(final String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] encode(final byte[] text, final String source, final long time) {
        final ByteBuf t = Unpooled.wrappedBuffer(text);
        final ByteBuf s = ascii(source);
        return encoder.encode(line.set(t, 0, text.length, s, 0, s.readableBytes(), time));
    }

    @Test
    void writesTheTwentySixteenDriverFormatExactly() {
        final byte[] event = encode("the line".getBytes(StandardCharsets.UTF_8), "stdout", 1_795_631_425_123_456_789L);
        assertEquals("{\"container_id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                + "\"container_name\":\"web\",\"image_id\":\"sha256:abc\",\"image_name\":\"nginx:1.27\",\"hostname\":\"h1\","
                + "\"tag\":\"0123456789ab\",\"time\":\"2026-11-25T18:30:25.123456789Z\",\"source\":\"stdout\",\"text\":\"the line\"}",
            new String(event, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "stderr|stderr",
        "stdout|stdout",
        "weird\"src|weird\"src",
        "''|''",
    })
    void writesTheSource(final String source, final String expected) {
        final JsonNode e = parse(encode(new byte[] {'x'}, source, 1));
        assertEquals(expected, e.get("source").asText());
        assertEquals("x", e.get("text").asText());
    }

    @Test
    void anEmptyLineIsAnEmptyText() {
        final byte[] event = encode(new byte[0], "stdout", 0);
        assertTrue(new String(event, StandardCharsets.UTF_8).endsWith(",\"text\":\"\"}"));
        assertEquals("", parse(event).get("text").asText());
    }

    @Test
    void escapesQuotesBackslashesAndEveryControlCharacterAndKeepsCarriageReturns() {
        final byte[] text = new byte[0x20 + 4];
        for (int i = 0; i < 0x20; i++) {
            text[i] = (byte) i;
        }
        text[0x20] = '"';
        text[0x21] = '\\';
        text[0x22] = 0x7F;
        text[0x23] = '\r';
        final String json = new String(encode(text, "stdout", 0), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"text\":\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            + "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
            + "\\u001e\\u001f\\\"\\\\\u007f\\r\"}"), json);
        assertEquals(new String(text, StandardCharsets.UTF_8), parse(json.getBytes(StandardCharsets.UTF_8)).get("text").asText());
    }

    @Test
    void validMultiByteUtf8PassesThroughUntouched() {
        final byte[] text = "héllo wörld — 日本語 😀 \uD83E\uDDD1\u200D\uD83D\uDE80".getBytes(StandardCharsets.UTF_8);
        final byte[] event = encode(text, "stdout", 0);
        final String json = new String(event, StandardCharsets.UTF_8);
        assertTrue(json.contains(new String(text, StandardCharsets.UTF_8)), "no \\u escapes for valid UTF-8: " + json);
    }

    @ParameterizedTest
    @CsvSource({
        "ff, \uFFFD",
        "80, \uFFFD",
        "c0af, \uFFFD\uFFFD",
        "e282, \uFFFD",
        "e28241, \uFFFDA",
        "eda080, \uFFFD",
        "eda0, \uFFFD",
        "eda041, \uFFFDA",
        "f4908080, \uFFFD\uFFFD\uFFFD\uFFFD",
        "f09f98, \uFFFD",
        "61f09f9862, a\uFFFDb",
        "e0809f, \uFFFD\uFFFD\uFFFD",
    })
    void replacesInvalidUtf8LikeTheJdkDecoder(final String hex, final String expected) {
        final byte[] text = io.netty.buffer.ByteBufUtil.decodeHexDump(hex);
        assertEquals(new String(text, StandardCharsets.UTF_8), expected, "the oracle itself");
        assertEquals(expected, parse(encode(text, "stdout", 0)).get("text").asText());
    }

    @Test
    void randomByteLinesGiveStrictJsonWithTheTextReplacedAndEveryOtherFieldExact() {
        final Random r = new Random(2026);
        for (int i = 0; i < 3000; i++) {
            final byte[] text = randomLine(r, i);
            final long time = r.nextLong();
            final String source = r.nextBoolean() ? "stdout" : "stderr";
            final JsonNode e = parse(encode(text, source, time));
            assertEquals(new String(text, StandardCharsets.UTF_8), e.get("text").asText(), "line " + i);
            assertEquals(source, e.get("source").asText());
            META.forEach((k, v) -> assertEquals(v, e.get(k).asText(), k));
            final List<String> keys = new ArrayList<>();
            e.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("container_id", "container_name", "image_id", "image_name", "hostname", "tag",
                "time", "source", "text"), keys);
        }
    }

    /** Control bytes, invalid UTF-8, 2-4 byte characters, lines of 16 KiB and more. */
    static byte[] randomLine(final Random r, final int i) {
        final int length = i % 50 == 0 ? 16 * 1024 + r.nextInt(20_000) : r.nextInt(200);
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        while (out.size() < length) {
            switch (r.nextInt(8)) {
                case 0 -> out.write(r.nextInt(0x20));                          // control
                case 1 -> out.write(0x80 + r.nextInt(0x80));                   // stray high byte
                case 2 -> out.writeBytes(new String(Character.toChars(0x80 + r.nextInt(0x780))).getBytes(StandardCharsets.UTF_8));
                case 3 -> out.writeBytes(new String(Character.toChars(0x800 + r.nextInt(0xD000)))
                    .getBytes(StandardCharsets.UTF_8));                         // may be a surrogate: '?' in Java
                case 4 -> out.writeBytes(new String(Character.toChars(0x10000 + r.nextInt(0xFFFFF)))
                    .getBytes(StandardCharsets.UTF_8));                         // 4-byte
                case 5 -> {                                                     // a truncated multi-byte sequence
                    final byte[] b = new String(Character.toChars(0x10000 + r.nextInt(0xFFFFF))).getBytes(StandardCharsets.UTF_8);
                    out.write(b, 0, 1 + r.nextInt(3));
                }
                case 6 -> out.write("\"\\".charAt(r.nextInt(2)));
                default -> out.write(0x20 + r.nextInt(0x5F));                  // printable ASCII
            }
        }
        return out.toByteArray();
    }

    @Test
    void aPieceCarriesThePartialFieldsOfTheOtherDrivers() {
        final ByteBuf t = ascii("chunk");
        final ByteBuf s = ascii("stdout");
        final ByteBuf id = ascii("abc-123");
        final byte[] event = encoder.encode(line.set(t, 0, 5, s, 0, 6, 1_000_000_000L).markPartial(id, 0, 7, 3, false));
        final JsonNode e = parse(event);
        assertEquals("chunk", e.get("text").asText());
        assertTrue(e.get("partial_message").asBoolean());
        assertEquals("abc-123", e.get("partial_id").asText());
        assertEquals(3, e.get("partial_ordinal").asInt());
        assertFalse(e.get("partial_last").asBoolean());
        assertTrue(new String(event, StandardCharsets.UTF_8).endsWith(
            "\"text\":\"chunk\",\"partial_message\":true,\"partial_id\":\"abc-123\",\"partial_ordinal\":3,\"partial_last\":false}"));

        final JsonNode last = parse(encoder.encode(line.set(t, 0, 5, s, 0, 6, 1).markPartial(id, 0, 7, -12, true)));
        assertEquals(-12, last.get("partial_ordinal").asInt());
        assertTrue(last.get("partial_last").asBoolean());
    }

    @Test
    void thePrefixLeavesOutPerLineKeysAndEscapesEverything() {
        final Map<String, String> fields = new LinkedHashMap<>(META);
        fields.put("time", "overwritten?");
        fields.put("text", "no");
        fields.put("source", "no");
        fields.put("partial_id", "no");
        fields.put("we\"ird\nkey", "vä\u0001lue");
        final JsonEventEncoder enc = new JsonEventEncoder(JsonEventEncoder.renderPrefix(fields), allocator);
        try {
            final byte[] event = enc.encode(line.set(ascii("x"), 0, 1, ascii("stdout"), 0, 6, 0));
            final JsonNode e = parse(event);
            assertEquals("1970-01-01T00:00:00Z", e.get("time").asText());
            assertEquals("x", e.get("text").asText());
            assertEquals("stdout", e.get("source").asText());
            assertEquals("vä\u0001lue", e.get("we\"ird\nkey").asText());
            assertEquals(null, e.get("partial_id"));
        } finally {
            enc.close();
        }
    }

    @Test
    void encodeInPlaceReusesOneBufferAndEncodeMakesAnExactCopy() {
        final byte[] text = "same buffer".getBytes(StandardCharsets.UTF_8);
        final ByteBuf first = encoder.encodeInPlace(line.set(Unpooled.wrappedBuffer(text), 0, text.length, ascii("stdout"), 0, 6, 5));
        final int length = first.readableBytes();
        final ByteBuf second = encoder.encodeInPlace(line);
        assertTrue(first == second, "one scratch buffer");
        final byte[] copy = encoder.encode(line);
        assertEquals(length, copy.length);
        assertEquals(1, allocator.allocations());
    }

    @Test
    void aHugeLineGrowsTheScratchThenGivesItBack() {
        final byte[] text = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(text, (byte) 1); // every byte expands to \u0001
        final JsonNode e = parse(encode(text, "stdout", 0));
        assertEquals(text.length, e.get("text").asText().length());
        assertEquals(0, allocator.live(), "a scratch over 256 KiB is released after the event");
    }

    @Test
    void writeIntWritesDecimals() {
        final byte[] out = new byte[20];
        for (final int v : new int[] {0, 7, 10, 99, 123456789, Integer.MAX_VALUE, Integer.MIN_VALUE, -1}) {
            final int end = JsonEventEncoder.writeInt(v, out, 0);
            assertEquals(Integer.toString(v), new String(out, 0, end, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void keysAreInTheDocumentedOrder() {
        final JsonNode e = parse(encode(new byte[] {'a'}, "stdout", 0));
        final Iterator<String> names = e.fieldNames();
        final List<String> keys = new ArrayList<>();
        names.forEachRemaining(keys::add);
        if (!keys.equals(List.of("container_id", "container_name", "image_id", "image_name", "hostname", "tag", "time",
            "source", "text"))) {
            fail("order: " + keys);
        }
    }
}
