package dev.natslog.core.config;

import java.util.Locale;

/**
 * A byte count as users write it, like Docker's own size options ({@code max-buffer-size}): digits with an
 * optional {@code k}, {@code m} or {@code g} suffix (powers of 1024), optionally followed by {@code b} or
 * {@code ib}, any case: {@code 33554432}, {@code 512k}, {@code 32m}, {@code 1GiB}.
 */
public final class ByteSize {
    /** What every error message shows as the expected form. */
    public static final String EXPECTED = "expected a positive size such as 33554432, 512k, 32m or 1g";

    private ByteSize() {
    }

    /**
     * @param value the text.
     * @return the byte count, positive.
     * @throws IllegalArgumentException when the text is not a positive size (the message says what is expected).
     */
    public static long parse(final String value) {
        final String v = null == value ? "" : value.trim().toLowerCase(Locale.ROOT).replaceFirst("i?b$", "");
        final long unit = switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 'k' -> 1024L;
            case 'm' -> 1024L * 1024;
            case 'g' -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        final String digits = unit > 1 ? v.substring(0, v.length() - 1).trim() : v;
        if (!digits.isEmpty() && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                final long n = Long.parseLong(digits);
                if (n > 0 && n <= Long.MAX_VALUE / unit) {
                    return n * unit;
                }
            } catch (final NumberFormatException ignored) {
                // too many digits: reported below
            }
        }
        throw new IllegalArgumentException(EXPECTED);
    }
}
