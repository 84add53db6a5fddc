package dev.natslog.core.frame;

/**
 * The wire layout of what dockerd writes into a logging plugin's FIFO, described once.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Frame length N (uint32, big-endian)                |
 * +---------------------------------------------------------------+
 * |            N bytes: protobuf LogEntry (proto3)               ...
 * +---------------------------------------------------------------+
 * </pre>
 *
 * The LogEntry fields (any order, zero values omitted, unknown fields allowed):
 * <pre>
 * field                  number  wire type        tag byte
 * source                 1       LEN              0x0A   "stdout" / "stderr"
 * time_nano              2       varint (int64)   0x10   UTC nanoseconds since the epoch
 * line                   3       LEN              0x1A   the line without its '\n', any bytes
 * partial                4       varint (bool)    0x20   true on every chunk of a split line
 * partial_log_metadata   5       LEN (message)    0x2A   { last=1 bool (0x08), id=2 string (0x12), ordinal=3 int32 (0x18) }
 * </pre>
 * Example frame (stdout, 1700000000123456789, "hello"):
 * {@code 00 00 00 19 0a 06 73 74 64 6f 75 74 10 95 9a 97 ec e3 9f e7 cb 17 1a 05 68 65 6c 6c 6f}
 */
public final class LogEntryLayout {
    /** Bytes of the length prefix before each LogEntry. */
    public static final int LENGTH_FIELD_LENGTH = 4;

    /**
     * Largest LogEntry accepted: dockerd cuts lines at 16 KiB, so a real frame is below ~16.5 KB;
     * a length above this is garbage and is never allocated.
     */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 1024 * 1024;

    public static final int WIRETYPE_VARINT = 0;
    public static final int WIRETYPE_FIXED64 = 1;
    public static final int WIRETYPE_LEN = 2;
    public static final int WIRETYPE_START_GROUP = 3;
    public static final int WIRETYPE_END_GROUP = 4;
    public static final int WIRETYPE_FIXED32 = 5;

    public static final int FIELD_SOURCE = 1;
    public static final int FIELD_TIME_NANO = 2;
    public static final int FIELD_LINE = 3;
    public static final int FIELD_PARTIAL = 4;
    public static final int FIELD_PARTIAL_METADATA = 5;

    public static final int METADATA_FIELD_LAST = 1;
    public static final int METADATA_FIELD_ID = 2;
    public static final int METADATA_FIELD_ORDINAL = 3;

    public static final int TAG_SOURCE = tag(FIELD_SOURCE, WIRETYPE_LEN);
    public static final int TAG_TIME_NANO = tag(FIELD_TIME_NANO, WIRETYPE_VARINT);
    public static final int TAG_LINE = tag(FIELD_LINE, WIRETYPE_LEN);
    public static final int TAG_PARTIAL = tag(FIELD_PARTIAL, WIRETYPE_VARINT);
    public static final int TAG_PARTIAL_METADATA = tag(FIELD_PARTIAL_METADATA, WIRETYPE_LEN);

    private LogEntryLayout() {
    }

    /**
     * @param fieldNumber of a protobuf field.
     * @param wireType    of that field.
     * @return the tag as it stands on the wire (a one-byte varint for every field number below 16).
     */
    public static int tag(final int fieldNumber, final int wireType) {
        return (fieldNumber << 3) | wireType;
    }

    /**
     * Whether a byte may start a LogEntry that dockerd wrote: one of the five tag bytes above. Used only when
     * looking for the next frame after corruption.
     *
     * @param firstByte the first byte of a frame's body.
     * @return true for 0x0A, 0x10, 0x1A, 0x20, 0x2A.
     */
    public static boolean isKnownTag(final int firstByte) {
        final int b = firstByte & 0xFF;
        return TAG_SOURCE == b || TAG_TIME_NANO == b || TAG_LINE == b || TAG_PARTIAL == b || TAG_PARTIAL_METADATA == b;
    }
}
