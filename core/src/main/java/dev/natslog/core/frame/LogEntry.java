package dev.natslog.core.frame;

import io.netty.buffer.ByteBuf;

import static dev.natslog.core.frame.LogEntryLayout.*;

/**
 * A flyweight over one protobuf {@code LogEntry} (see {@link LogEntryLayout}) lying in a {@link ByteBuf}.
 *
 * <p>{@link #wrap(ByteBuf, int, int)} makes one pass over the protobuf tags and remembers offsets, lengths and
 * scalar values in {@code int}/{@code long} fields; nothing is copied and nothing is allocated. Accessors then
 * answer from those fields. Any field order is accepted, unknown fields are skipped, missing fields keep their
 * proto3 defaults (empty source and line, time 0, not partial).
 *
 * <p><b>Allocation:</b> none, ever. One instance is reused for every frame of a stream. The views
 * ({@link #lineOffset()}, {@link #lineLength()}, …) point into the wrapped buffer and are valid only until that
 * buffer changes, that is, during the callback that received this entry.
 *
 * <p>Not thread-safe: one per decoder.
 */
public final class LogEntry {
    private static final int ABSENT = -1;

    private ByteBuf buffer;
    private int cursor;

    private int sourceOffset;
    private int sourceLength;
    private long timeNano;
    private int lineOffset;
    private int lineLength;
    private boolean partial;
    private boolean hasPartialMetadata;
    private boolean partialLast;
    private int partialIdOffset;
    private int partialIdLength;
    private int partialOrdinal;
    private long frameStart;
    private long frameEnd;

    /**
     * Attaches this flyweight to a LogEntry and decodes its field positions.
     *
     * @param buffer that holds the entry; not retained, not modified.
     * @param offset of the entry's first byte (after the length prefix).
     * @param length of the entry in bytes.
     * @return true if the bytes are a well-formed LogEntry; false if a tag, varint or length is malformed or a
     * field runs past {@code offset + length}. After false, the accessors are meaningless.
     */
    public boolean wrap(final ByteBuf buffer, final int offset, final int length) {
        this.buffer = buffer;
        sourceOffset = offset;
        sourceLength = 0;
        timeNano = 0;
        lineOffset = offset;
        lineLength = 0;
        partial = false;
        hasPartialMetadata = false;
        partialLast = false;
        partialIdOffset = offset;
        partialIdLength = 0;
        partialOrdinal = 0;
        cursor = offset;
        final int end = offset + length;
        while (cursor < end) {
            final long tag = readVarint(end);
            if (ABSENT == cursor || tag > Integer.MAX_VALUE) {
                return false;
            }
            final int field = (int) tag >>> 3;
            final int wireType = (int) tag & 7;
            switch (field) {
                case FIELD_SOURCE -> {
                    if (!readLen(wireType, end)) {
                        return false;
                    }
                    sourceOffset = lenOffset;
                    sourceLength = lenLength;
                }
                case FIELD_TIME_NANO -> {
                    if (WIRETYPE_VARINT != wireType) {
                        return false;
                    }
                    timeNano = readVarint(end);
                }
                case FIELD_LINE -> {
                    if (!readLen(wireType, end)) {
                        return false;
                    }
                    lineOffset = lenOffset;
                    lineLength = lenLength;
                }
                case FIELD_PARTIAL -> {
                    if (WIRETYPE_VARINT != wireType) {
                        return false;
                    }
                    partial = 0 != readVarint(end);
                }
                case FIELD_PARTIAL_METADATA -> {
                    if (!readLen(wireType, end)) {
                        return false;
                    }
                    final int metadataEnd = lenOffset + lenLength;
                    if (!wrapMetadata(lenOffset, metadataEnd)) {
                        return false;
                    }
                    hasPartialMetadata = true;
                    cursor = metadataEnd;
                }
                default -> {
                    if (0 == field || !skipField(wireType, end)) {
                        return false;
                    }
                }
            }
            if (ABSENT == cursor) {
                return false;
            }
        }
        return cursor == end;
    }

    private boolean wrapMetadata(final int offset, final int end) {
        cursor = offset;
        while (cursor < end) {
            final long tag = readVarint(end);
            if (ABSENT == cursor || tag > Integer.MAX_VALUE) {
                return false;
            }
            final int field = (int) tag >>> 3;
            final int wireType = (int) tag & 7;
            switch (field) {
                case METADATA_FIELD_LAST -> {
                    if (WIRETYPE_VARINT != wireType) {
                        return false;
                    }
                    partialLast = 0 != readVarint(end);
                }
                case METADATA_FIELD_ID -> {
                    if (!readLen(wireType, end)) {
                        return false;
                    }
                    partialIdOffset = lenOffset;
                    partialIdLength = lenLength;
                }
                case METADATA_FIELD_ORDINAL -> {
                    if (WIRETYPE_VARINT != wireType) {
                        return false;
                    }
                    partialOrdinal = (int) readVarint(end);
                }
                default -> {
                    if (0 == field || !skipField(wireType, end)) {
                        return false;
                    }
                }
            }
            if (ABSENT == cursor) {
                return false;
            }
        }
        return cursor == end;
    }

    // Result of readLen, kept in fields so that no object is needed to return two ints.
    private int lenOffset;
    private int lenLength;

    private boolean readLen(final int wireType, final int end) {
        if (WIRETYPE_LEN != wireType) {
            return false;
        }
        final long length = readVarint(end);
        if (ABSENT == cursor || length < 0 || length > end - cursor) {
            return false; // the field would run past its frame
        }
        lenOffset = cursor;
        lenLength = (int) length;
        cursor += (int) length;
        return true;
    }

    private boolean skipField(final int wireType, final int end) {
        switch (wireType) {
            case WIRETYPE_VARINT -> readVarint(end);
            case WIRETYPE_FIXED64 -> cursor = 8 <= end - cursor ? cursor + 8 : ABSENT;
            case WIRETYPE_LEN -> {
                return readLen(wireType, end);
            }
            case WIRETYPE_FIXED32 -> cursor = 4 <= end - cursor ? cursor + 4 : ABSENT;
            default -> {
                return false; // groups (3, 4) are not proto3; 6 and 7 do not exist
            }
        }
        return ABSENT != cursor;
    }

    /**
     * Reads a base-128 varint at {@link #cursor}, advancing it; sets the cursor to {@link #ABSENT} when the
     * varint is longer than 10 bytes or runs past {@code end}.
     */
    private long readVarint(final int end) {
        final ByteBuf buf = buffer;
        int i = cursor;
        if (i < end) {
            final byte first = buf.getByte(i);
            if (first >= 0) { // the common one-byte case: tags, small lengths, booleans
                cursor = i + 1;
                return first;
            }
        }
        long result = 0;
        for (int shift = 0; shift < 64 && i < end; shift += 7) {
            final byte b = buf.getByte(i++);
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                cursor = i;
                return result;
            }
        }
        cursor = ABSENT;
        return 0;
    }

    /** Sets where this entry's frame lies in the whole stream (set by the decoder before its callback). */
    void position(final long frameStart, final long frameEnd) {
        this.frameStart = frameStart;
        this.frameEnd = frameEnd;
    }

    /** @return offset in the whole stream of this entry's frame (its length prefix). */
    public long frameStart() {
        return frameStart;
    }

    /** @return offset in the whole stream just after this entry's frame. */
    public long frameEnd() {
        return frameEnd;
    }

    /** @return the buffer this entry was last wrapped over. */
    public ByteBuf buffer() {
        return buffer;
    }

    /** @return offset in {@link #buffer()} of the source bytes ("stdout" / "stderr"). */
    public int sourceOffset() {
        return sourceOffset;
    }

    /** @return length of the source; 0 when the field is absent. */
    public int sourceLength() {
        return sourceLength;
    }

    /** @return true when the source is exactly {@code stderr}. */
    public boolean sourceIsStderr() {
        return 6 == sourceLength && buffer.getInt(sourceOffset) == 0x73746465 /* "stde" */
            && buffer.getShort(sourceOffset + 4) == 0x7272 /* "rr" */;
    }

    /** @return UTC nanoseconds since the epoch when dockerd read the line; 0 when absent. */
    public long timeNano() {
        return timeNano;
    }

    /** @return offset in {@link #buffer()} of the line's first byte. */
    public int lineOffset() {
        return lineOffset;
    }

    /** @return length of the line in bytes (without its '\n'); 0 for an empty line. */
    public int lineLength() {
        return lineLength;
    }

    /** @return true when this entry is a chunk of a longer line (true on every chunk, the last one too). */
    public boolean partial() {
        return partial;
    }

    /** @return true when the entry carries {@code partial_log_metadata}. */
    public boolean hasPartialMetadata() {
        return hasPartialMetadata;
    }

    /** @return the metadata's {@code last}: this chunk ends its line. */
    public boolean partialLast() {
        return partialLast;
    }

    /** @return offset in {@link #buffer()} of the metadata's {@code id}. */
    public int partialIdOffset() {
        return partialIdOffset;
    }

    /** @return length of the metadata's {@code id}; 0 when absent. */
    public int partialIdLength() {
        return partialIdLength;
    }

    /** @return the metadata's {@code ordinal} (1, 2, … for the chunks of one line); 0 when absent. */
    public int partialOrdinal() {
        return partialOrdinal;
    }
}
