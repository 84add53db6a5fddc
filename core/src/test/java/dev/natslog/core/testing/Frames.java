package dev.natslog.core.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The reference encoder: writes Docker LogEntry frames with protobuf-java's {@link CodedOutputStream}, with
 * fields in any order and unknown fields mixed in when asked.
 */
public final class Frames {
    private Frames() {
    }

    /** One entry as the test means it. Null fields are left out of the frame. */
    public record Entry(String source, Long timeNano, byte[] line, Boolean partial, Boolean last, String id,
                        Integer ordinal) {
        public static Entry of(final String source, final long timeNano, final String line) {
            return new Entry(source, timeNano, line.getBytes(StandardCharsets.UTF_8), null, null, null, null);
        }

        public static Entry chunk(final String source, final long timeNano, final byte[] line, final String id,
                                  final int ordinal, final boolean last) {
            return new Entry(source, timeNano, line, true, last ? true : null, id, ordinal);
        }

        public boolean hasMetadata() {
            return null != last || null != id || null != ordinal;
        }
    }

    /** @return the frame: 4-byte big-endian length, then the LogEntry in the canonical field order. */
    public static byte[] frame(final Entry e) {
        return frame(e, null, false);
    }

    /**
     * @param e        the entry.
     * @param random   when not null, shuffles the field order (and the metadata's).
     * @param unknowns when true, adds unknown fields of every wire type.
     */
    public static byte[] frame(final Entry e, final Random random, final boolean unknowns) {
        final byte[] body = body(e, random, unknowns);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    public static byte[] body(final Entry e, final Random random, final boolean unknowns) {
        final List<Writer> fields = new ArrayList<>();
        if (null != e.source) {
            fields.add(out -> out.writeString(1, e.source));
        }
        if (null != e.timeNano) {
            fields.add(out -> out.writeInt64(2, e.timeNano));
        }
        if (null != e.line) {
            fields.add(out -> out.writeBytes(3, ByteString.copyFrom(e.line)));
        }
        if (null != e.partial) {
            fields.add(out -> out.writeBool(4, e.partial));
        }
        if (e.hasMetadata()) {
            final byte[] metadata = metadata(e, random, unknowns);
            fields.add(out -> out.writeByteArray(5, metadata));
        }
        if (unknowns) {
            addUnknowns(fields, random);
        }
        if (null != random) {
            Collections.shuffle(fields, random);
        }
        return write(fields);
    }

    private static byte[] metadata(final Entry e, final Random random, final boolean unknowns) {
        final List<Writer> fields = new ArrayList<>();
        if (null != e.last) {
            fields.add(out -> out.writeBool(1, e.last));
        }
        if (null != e.id) {
            fields.add(out -> out.writeString(2, e.id));
        }
        if (null != e.ordinal) {
            fields.add(out -> out.writeInt32(3, e.ordinal));
        }
        if (unknowns) {
            addUnknowns(fields, random);
        }
        if (null != random) {
            Collections.shuffle(fields, random);
        }
        return write(fields);
    }

    private static void addUnknowns(final List<Writer> fields, final Random random) {
        final Random r = null == random ? new Random(1) : random;
        final int field = 6 + r.nextInt(3000);
        fields.add(out -> out.writeUInt64(field, r.nextLong()));
        fields.add(out -> out.writeFixed64(field + 1, r.nextLong()));
        fields.add(out -> out.writeFixed32(field + 2, r.nextInt()));
        final byte[] junk = new byte[r.nextInt(40)];
        r.nextBytes(junk);
        fields.add(out -> out.writeByteArray(field + 3, junk));
    }

    @FunctionalInterface
    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] write(final List<Writer> fields) {
        try {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            final CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            for (final Writer w : fields) {
                w.write(out);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the frames one after another, as dockerd writes them into the FIFO. */
    public static byte[] stream(final List<byte[]> frames) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        frames.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
