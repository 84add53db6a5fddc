package dev.natslog.jmh;

import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Benchmark input: log lines of a size and a kind, as dockerd's frames filling one 64 KiB FIFO read. */
public final class Lines {
    /** What the text is made of. */
    public enum Kind {
        /** printable ASCII without quotes or backslashes: nothing to escape */
        ASCII,
        /** 2-, 3- and 4-byte UTF-8 characters mixed with ASCII */
        UTF8,
        /** quotes, backslashes, tabs and other control characters every few bytes */
        ESCAPES,
        /** printable ASCII with an accented letter now and then (one character in 40): not in the default runs */
        MOSTLY_ASCII,
        /** UTF8's characters with a quote one pick in eight, like JSON logs in other scripts: not in the default runs */
        UTF8_QUOTES
    }

    private Lines() {
    }

    public static byte[] text(final int size, final Kind kind, final long seed) {
        final Random r = new Random(seed);
        final ByteArrayOutputStream out = new ByteArrayOutputStream(size + 4);
        while (out.size() < size) {
            switch (kind) {
                case ASCII -> {
                    final int c = 0x20 + r.nextInt(0x5F); // printable, nothing to escape
                    out.write(c == '"' || c == '\\' ? 'a' : c);
                }
                case UTF8 -> {
                    final int pick = r.nextInt(4);
                    final String s = pick == 0 ? "é" : pick == 1 ? "日" : pick == 2 ? "😀" : "abc";
                    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                }
                case UTF8_QUOTES -> {
                    final int pick = r.nextInt(8);
                    final String s = pick < 2 ? "\u00e9" : pick < 4 ? "\u65e5" : pick == 4 ? "\ud83d\ude00" : pick == 7 ? "\"" : "abc";
                    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                }
                case MOSTLY_ASCII -> {
                    if (r.nextInt(40) == 0) {
                        out.writeBytes("\u00e9".getBytes(StandardCharsets.UTF_8));
                    } else {
                        final int c = 0x20 + r.nextInt(0x5F);
                        out.write(c == '"' || c == '\\' ? 'a' : c);
                    }
                }
                case ESCAPES -> {
                    final int pick = r.nextInt(6);
                    out.write(pick == 0 ? '"' : pick == 1 ? '\\' : pick == 2 ? '\t' : pick == 3 ? 0x01 : 'x');
                }
            }
        }
        final byte[] b = out.toByteArray();
        return b.length == size ? b : java.util.Arrays.copyOf(b, size); // may cut a UTF-8 character: realistic
    }

    /** One frame: 4-byte length, then the LogEntry (source, time_nano, line) as dockerd writes it. */
    public static byte[] frame(final byte[] line, final long timeNano) {
        try {
            final ByteArrayOutputStream body = new ByteArrayOutputStream(line.length + 32);
            final CodedOutputStream out = CodedOutputStream.newInstance(body);
            out.writeString(1, "stdout");
            out.writeInt64(2, timeNano);
            out.writeByteArray(3, line);
            out.flush();
            final byte[] b = body.toByteArray();
            return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whole frames of lines of {@code size} bytes filling up to 64 KiB (at least one frame). */
    public static byte[] fifoRead(final int size, final Kind kind) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        long time = 1_795_631_425_123_456_789L;
        int i = 0;
        while (true) {
            final byte[] f = frame(text(size, kind, i++), time += 1_000);
            if (out.size() > 0 && out.size() + f.length > 64 * 1024) {
                break;
            }
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    public static int count(final byte[] stream) {
        int n = 0;
        for (int p = 0; p < stream.length; n++) {
            p += 4 + ByteBuffer.wrap(stream, p, 4).getInt();
        }
        return n;
    }
}
