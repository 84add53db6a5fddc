package dev.natslog.core.event;

import io.netty.buffer.ByteBuf;

/**
 * One log line ready to be encoded: a mutable holder of views, reused for every line of a stream, so that
 * handing a line from the {@link LineAssembler} to the {@link JsonEventEncoder} creates no object.
 *
 * <p>The views point either into the frame that was just decoded (a line that came whole) or into the
 * assembler's buffer (a line gathered from chunks). They are valid only during the call that received this
 * holder.
 */
public final class LogLine {
    private ByteBuf text;
    private int textOffset;
    private int textLength;
    private ByteBuf source;
    private int sourceOffset;
    private int sourceLength;
    private long timeNano;
    private boolean partial;
    private ByteBuf partialId;
    private int partialIdOffset;
    private int partialIdLength;
    private int partialOrdinal;
    private boolean partialLast;
    private long resumeOffset;

    /**
     * Points this holder at a line and marks it whole.
     *
     * @return this, for chaining.
     */
    public LogLine set(final ByteBuf text, final int textOffset, final int textLength,
                final ByteBuf source, final int sourceOffset, final int sourceLength, final long timeNano) {
        this.text = text;
        this.textOffset = textOffset;
        this.textLength = textLength;
        this.source = source;
        this.sourceOffset = sourceOffset;
        this.sourceLength = sourceLength;
        this.timeNano = timeNano;
        this.partial = false;
        return this;
    }

    /**
     * Marks the line as a piece of a longer one (cap reached, or the stream ended mid-line).
     *
     * @return this, for chaining.
     */
    public LogLine markPartial(final ByteBuf id, final int idOffset, final int idLength, final int ordinal,
                        final boolean last) {
        this.partial = true;
        this.partialId = id;
        this.partialIdOffset = idOffset;
        this.partialIdLength = idLength;
        this.partialOrdinal = ordinal;
        this.partialLast = last;
        return this;
    }

    /**
     * Sets where a replay of the stream would start once this line is confirmed: every line before it is then
     * done, and no line still being gathered starts earlier.
     *
     * @return this, for chaining.
     */
    public LogLine resumeOffset(final long offset) {
        this.resumeOffset = offset;
        return this;
    }

    /** @return the stream offset a replay starts from once this line (and every one before it) is confirmed. */
    public long resumeOffset() {
        return resumeOffset;
    }

    public ByteBuf text() {
        return text;
    }

    public int textOffset() {
        return textOffset;
    }

    public int textLength() {
        return textLength;
    }

    public ByteBuf source() {
        return source;
    }

    public int sourceOffset() {
        return sourceOffset;
    }

    public int sourceLength() {
        return sourceLength;
    }

    public long timeNano() {
        return timeNano;
    }

    /** @return true when this is a piece of a longer line; the {@code partial*} accessors then apply. */
    public boolean partial() {
        return partial;
    }

    public ByteBuf partialId() {
        return partialId;
    }

    public int partialIdOffset() {
        return partialIdOffset;
    }

    public int partialIdLength() {
        return partialIdLength;
    }

    public int partialOrdinal() {
        return partialOrdinal;
    }

    public boolean partialLast() {
        return partialLast;
    }
}
