package dev.natslog.core.event;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Rfc3339NanoTest {
    private final Rfc3339Nano time = new Rfc3339Nano();

    private String format(final long nanos) {
        final byte[] out = new byte[Rfc3339Nano.MAX_LENGTH + 5];
        final int end = time.write(nanos, out, 3);
        return new String(out, 3, end - 3, StandardCharsets.US_ASCII);
    }

    /** The same thing through java.time, written independently. */
    private static String expected(final long nanos) {
        final long second = Math.floorDiv(nanos, 1_000_000_000L);
        final int fraction = (int) Math.floorMod(nanos, 1_000_000_000L);
        final LocalDateTime t = LocalDateTime.ofEpochSecond(second, fraction, ZoneOffset.UTC);
        String s = String.format("%04d-%02d-%02dT%02d:%02d:%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(),
            t.getHour(), t.getMinute(), t.getSecond());
        if (fraction != 0) {
            s += "." + String.format("%09d", fraction).replaceAll("0+$", "");
        }
        return s + "Z";
    }

    @ParameterizedTest
    @CsvSource({
        "0, 1970-01-01T00:00:00Z",
        "1, 1970-01-01T00:00:00.000000001Z",
        "1700000000123456789, 2023-11-14T22:13:20.123456789Z",
        "1700000000100000000, 2023-11-14T22:13:20.1Z",
        "1700000000000000000, 2023-11-14T22:13:20Z",
        "1795631425120000000, 2026-11-25T18:30:25.12Z",
        "-1, 1969-12-31T23:59:59.999999999Z",
        "951782400000000000, 2000-02-29T00:00:00Z",
    })
    void writesGoRfc3339Nano(final long nanos, final String text) {
        assertEquals(text, format(nanos));
    }

    /** Fractions with every count of trailing zeros (0 to 8), the groups of three digits zero or not. */
    @Test
    void agreesWithJavaTimeForFractionsOfEveryLength() {
        final Random r = new Random(9);
        long power = 1;
        for (int zeros = 0; zeros <= 8; zeros++, power *= 10) {
            final long span = 1_000_000_000L / power; // fractions of 9 - zeros significant digits
            for (int i = 0; i < 3_000; i++) {
                long significant = 1 + r.nextLong(span - 1);
                if (significant % 10 == 0) {
                    significant++; // its last digit is the last significant one
                }
                if (significant >= span) {
                    continue;
                }
                final long second = 1_700_000_000L + r.nextInt(1_000_000);
                final long nanos = second * 1_000_000_000L + significant * power;
                assertEquals(expected(nanos), format(nanos), "nanos " + nanos);
            }
        }
        for (final long fraction : new long[] {1, 1_000, 1_000_000, 999_000_000, 1_001_000, 100_100_100, 999_999_999}) {
            final long nanos = 1_700_000_000_000_000_000L + fraction;
            assertEquals(expected(nanos), format(nanos), "nanos " + nanos);
        }
    }

    @Test
    void agreesWithJavaTimeAcrossTheWholeInt64Range() {
        final Random r = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            final long nanos = switch (i % 3) {
                case 0 -> r.nextLong();
                case 1 -> 1_700_000_000_000_000_000L + r.nextLong(1_000_000_000_000_000L);
                default -> (1_700_000_000L + r.nextInt(100)) * 1_000_000_000L + r.nextInt(10) * 100_000_000L;
            };
            assertEquals(expected(nanos), format(nanos), "nanos " + nanos);
        }
        assertEquals(expected(Long.MIN_VALUE), format(Long.MIN_VALUE));
        assertEquals(expected(Long.MAX_VALUE), format(Long.MAX_VALUE));
    }
}
