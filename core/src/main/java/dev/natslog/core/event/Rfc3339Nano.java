package dev.natslog.core.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Writes UTC times the way Go's {@code time.RFC3339Nano} does: {@code 2026-11-23T18:30:25.123456789Z}, trailing
 * zero digits of the fraction trimmed, no fraction at all on a whole second.
 *
 * <p><b>Allocation:</b> none. The 19 bytes of {@code yyyy-MM-ddTHH:mm:ss} are cached for the last second seen,
 * so lines of the same second only copy them and write the fraction: three groups of three digits from a table,
 * with no chain of divisions by ten. One instance per encoder (not thread-safe).
 */
public final class Rfc3339Nano {
    /**
     * Longest output, {@code yyyy-MM-ddTHH:mm:ss.nnnnnnnnnZ}: int64 nanoseconds span the years 1677 to 2262, so the
     * year always has four digits.
     */
    public static final int MAX_LENGTH = 30;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    /** 000 to 999 as three ASCII digits in the low bytes of a little-endian int. */
    private static final int[] THREE_DIGITS = new int[1000];

    static {
        for (int n = 0; n < 1000; n++) {
            THREE_DIGITS[n] = ('0' + n / 100) | ('0' + n / 10 % 10) << 8 | ('0' + n % 10) << 16;
        }
    }

    private long cachedSecond = Long.MIN_VALUE;
    private final byte[] cachedDateTime = new byte[19];
    private int cachedLength;

    /**
     * @param epochNanos UTC nanoseconds since 1970-01-01T00:00:00Z (may be negative).
     * @param dst        destination array; needs {@link #MAX_LENGTH} bytes free at {@code pos}.
     * @param pos        where to write.
     * @return the position after the last byte written.
     */
    public int write(final long epochNanos, final byte[] dst, final int pos) {
        final long second = Math.floorDiv(epochNanos, NANOS_PER_SECOND);
        final int nanos = (int) Math.floorMod(epochNanos, NANOS_PER_SECOND);
        if (second != cachedSecond) {
            cachedLength = writeDateTime(second, cachedDateTime, 0);
            cachedSecond = second;
        }
        System.arraycopy(cachedDateTime, 0, dst, pos, cachedLength);
        int p = pos + cachedLength;
        if (0 != nanos) {
            dst[p] = '.';
            final int high = nanos / 1_000_000;
            final int rest = nanos - high * 1_000_000;
            final int middle = rest / 1000;
            INTS.set(dst, p + 1, THREE_DIGITS[high]); // each store's fourth byte is overwritten or past the end
            INTS.set(dst, p + 4, THREE_DIGITS[middle]);
            INTS.set(dst, p + 7, THREE_DIGITS[rest - middle * 1000]);
            int digits = 9;
            for (int fraction = nanos; 0 == fraction % 10; fraction /= 10) {
                digits--;
            }
            p += 1 + digits;
        }
        dst[p++] = 'Z';
        return p;
    }

    /** Writes {@code yyyy-MM-ddTHH:mm:ss} for a second since the epoch; returns the position after it. */
    private static int writeDateTime(final long epochSecond, final byte[] dst, final int pos) {
        final long days = Math.floorDiv(epochSecond, 86_400L);
        final int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        // Civil-from-days (H. Hinnant), proleptic Gregorian, valid for the whole int64-nanosecond range.
        final long z = days + 719_468;
        final long era = Math.floorDiv(z, 146_097);
        final long dayOfEra = z - era * 146_097;
        final long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        final long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        final long mp = (5 * dayOfYear + 2) / 153;
        final int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        final int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        final long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);

        int p = digits(year, 4, dst, pos);
        dst[p++] = '-';
        p = digits(month, 2, dst, p);
        dst[p++] = '-';
        p = digits(day, 2, dst, p);
        dst[p++] = 'T';
        p = digits(secondOfDay / 3600, 2, dst, p);
        dst[p++] = ':';
        p = digits(secondOfDay / 60 % 60, 2, dst, p);
        dst[p++] = ':';
        p = digits(secondOfDay % 60, 2, dst, p);
        return p;
    }

    private static int digits(final long value, final int width, final byte[] dst, final int pos) {
        long v = value;
        for (int i = width - 1; i >= 0; i--) {
            dst[pos + i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return pos + width;
    }
}
