package dev.natslog.core.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import static dev.natslog.core.frame.LogEntryLayout.LENGTH_FIELD_LENGTH;

/**
 * Splits the byte stream of one FIFO into LogEntry frames ({@link LogEntryLayout}) and hands each to a
 * {@link Handler} as a {@link LogEntry} flyweight, in place.
 *
 * <p>Reads may be of any size and split anywhere: a frame may straddle reads, a read may hold many frames.
 *
 * <h3>Whole frames in one read: decoded where they lie</h3>
 * <pre>
 * read:  +------+-----------+------+-----------+------+----+
 *        | 0x19 | LogEntry  | 0x08 | LogEntry  | 0x30 | Lo |
 *        +------+-----------+------+-----------+------+----+
 *        handler sees entry 1, then entry 2 (views into the read buffer);
 *        the 6 bytes of the unfinished third frame are copied aside.
 * </pre>
 * <h3>A frame that straddles reads: only its missing bytes are copied</h3>
 * <pre>
 * next read: +--------------------------+------+-----------+
 *            | gEntry (0x30 - 2 bytes)  | 0x11 | LogEntry  |
 *            +--------------------------+------+-----------+
 *        the missing 46 bytes complete the third frame aside, the handler sees it,
 *        then the fourth frame is decoded in place in the read buffer.
 * </pre>
 * <h3>Corruption: resync, count, carry on</h3>
 * A length above {@code maxFrameLength}, a malformed protobuf body or a field that runs past its frame is
 * corruption. The decoder never allocates the bogus length and never throws: it skips one byte at a time until
 * it finds a plausible header again (a length in {@code [2, maxFrameLength]} whose body starts with one of the
 * LogEntry tag bytes and decodes as a whole LogEntry), counts the bytes it skipped
 * ({@link #bytesSkipped()}) and the episodes ({@link #corruptions()}), and decodes on from there.
 *
 * <p><b>Allocation:</b> none per frame. A cumulation buffer is taken from the allocator only while an
 * unfinished frame (or a resync) spans reads, and released as soon as it is empty, so an idle stream holds no
 * buffer. <b>Ownership:</b> {@link #decode(ByteBuf)} consumes its argument's readable bytes but never releases
 * it; the caller owns it. The {@link LogEntry} passed to the handler is valid only during the call.
 *
 * <p>Not thread-safe: one decoder per stream, driven by one thread at a time.
 */
public final class FrameDecoder implements AutoCloseable {
    /** Receives each decoded entry. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param entry the decoded entry; a flyweight valid only during this call.
         */
        void onEntry(LogEntry entry);
    }

    private final ByteBufAllocator allocator;
    private final int maxFrameLength;
    private final Handler handler;
    private final LogEntry entry = new LogEntry();

    private ByteBuf cumulation;
    private boolean resyncing;
    private long position;
    private long bytesSkipped;
    private long corruptions;
    private long handlerFailures;
    private RuntimeException lastHandlerFailure;

    /**
     * @param allocator      for the cumulation buffer of frames that straddle reads.
     * @param maxFrameLength largest LogEntry accepted, in bytes (see {@link LogEntryLayout#DEFAULT_MAX_FRAME_LENGTH}).
     * @param handler        called once per decoded entry, on the decoding thread.
     */
    public FrameDecoder(final ByteBufAllocator allocator, final int maxFrameLength, final Handler handler) {
        if (maxFrameLength < 2) {
            throw new IllegalArgumentException("maxFrameLength (" + maxFrameLength + ") must be at least 2");
        }
        this.allocator = allocator;
        this.maxFrameLength = maxFrameLength;
        this.handler = handler;
    }

    /**
     * Decodes every whole frame now available and keeps the rest for the next call.
     *
     * @param in the bytes just read; all its readable bytes are consumed. Not released: the caller owns it.
     */
    public void decode(final ByteBuf in) {
        if (null != cumulation && !completePending(in)) {
            return;
        }
        decodeFrames(in);
        if (in.isReadable()) {
            keep(in);
        }
    }

    /**
     * The stream has ended: bytes that do not form a whole frame are counted as skipped (and any whole frame
     * found among them after a resync is still handed over). Releases the cumulation.
     */
    public void decodeLast() {
        final ByteBuf cum = cumulation;
        if (null == cum) {
            return;
        }
        while (cum.isReadable()) {
            decodeFrames(cum);
            if (cum.isReadable()) {
                // an unfinished frame at the end of the stream: it will never be completed
                if (!resyncing) {
                    startResync();
                }
                skip(cum, 1);
            }
        }
        release();
    }

    /**
     * @return bytes of the stream consumed so far (frames handed over plus bytes skipped): the stream offset of
     * the next frame. During a handler call, the end of the entry's frame.
     */
    public long position() {
        return position;
    }

    /**
     * Sets the stream offset of the next byte {@link #decode} will see, when a stream is resumed part-way
     * (crash recovery replays a journal from a frame boundary).
     *
     * @param position a frame boundary of the stream.
     */
    public void position(final long position) {
        this.position = position;
    }

    /** @return bytes skipped because of corruption so far. */
    public long bytesSkipped() {
        return bytesSkipped;
    }

    /** @return how many times the stream was found corrupt and a resync began. */
    public long corruptions() {
        return corruptions;
    }

    /** @return how many times the handler threw; the decoder carries on after each. */
    public long handlerFailures() {
        return handlerFailures;
    }

    /** @return the last exception the handler threw, for the caller to log; null if none. */
    public RuntimeException lastHandlerFailure() {
        return lastHandlerFailure;
    }

    /** Releases the cumulation, if any. Idempotent. */
    @Override
    public void close() {
        release();
    }

    /**
     * Feeds {@code in} into the pending cumulation.
     *
     * @return true when the cumulation was used up and decoding goes on in {@code in}; false when all of
     * {@code in} was absorbed.
     */
    private boolean completePending(final ByteBuf in) {
        final ByteBuf cum = cumulation;
        if (!resyncing) {
            if (cum.readableBytes() < LENGTH_FIELD_LENGTH) {
                cum.writeBytes(in, Math.min(LENGTH_FIELD_LENGTH - cum.readableBytes(), in.readableBytes()));
                if (cum.readableBytes() < LENGTH_FIELD_LENGTH) {
                    return false;
                }
            }
            final long length = cum.getUnsignedInt(cum.readerIndex());
            if (length <= maxFrameLength) {
                // never overflows: length <= maxFrameLength < Integer.MAX_VALUE - 4
                final int missing = LENGTH_FIELD_LENGTH + (int) length - cum.readableBytes();
                if (missing > in.readableBytes()) {
                    cum.writeBytes(in);
                    return false;
                }
                cum.writeBytes(in, missing);
                decodeFrames(cum); // exactly this frame, or the start of a resync
            }
        }
        if (resyncing || cum.isReadable()) {
            // Rare: corruption. Gather everything in one buffer and scan it there.
            cum.writeBytes(in);
            decodeFrames(cum);
            if (cum.isReadable()) {
                cum.discardReadBytes();
            } else {
                release();
            }
            return false;
        }
        release();
        return true;
    }

    private void decodeFrames(final ByteBuf buf) {
        final int max = maxFrameLength;
        while (buf.readableBytes() >= LENGTH_FIELD_LENGTH) {
            final int start = buf.readerIndex();
            final int readable = buf.readableBytes();
            final long length = buf.getUnsignedInt(start);
            if (resyncing) {
                if (length < 2 || length > max
                    || (readable > LENGTH_FIELD_LENGTH && !LogEntryLayout.isKnownTag(buf.getByte(start + 4)))) {
                    skip(buf, 1);
                    continue;
                }
            } else if (length > max) {
                startResync();
                skip(buf, 1);
                continue;
            }
            if (readable - LENGTH_FIELD_LENGTH < length) {
                return; // wait for the rest of the frame
            }
            final int frameLength = (int) length;
            if (entry.wrap(buf, start + LENGTH_FIELD_LENGTH, frameLength)) {
                // Advance before the callback, so a failing handler never sees the same frame again.
                buf.readerIndex(start + LENGTH_FIELD_LENGTH + frameLength);
                final long frameStart = position;
                position += LENGTH_FIELD_LENGTH + frameLength;
                entry.position(frameStart, position);
                resyncing = false;
                try {
                    handler.onEntry(entry);
                } catch (final RuntimeException e) {
                    handlerFailures++;
                    lastHandlerFailure = e;
                }
            } else {
                if (!resyncing) {
                    startResync();
                }
                skip(buf, 1);
            }
        }
    }

    private void startResync() {
        resyncing = true;
        corruptions++;
    }

    private void skip(final ByteBuf buf, final int n) {
        buf.skipBytes(n);
        bytesSkipped += n;
        position += n;
    }

    private void keep(final ByteBuf in) {
        final int readable = in.readableBytes();
        int capacity = readable;
        if (!resyncing && readable >= LENGTH_FIELD_LENGTH) {
            // room for the whole frame, so it is completed without a reallocation
            capacity = LENGTH_FIELD_LENGTH + (int) in.getUnsignedInt(in.readerIndex());
        }
        cumulation = allocator.directBuffer(Math.max(capacity, 256));
        cumulation.writeBytes(in);
    }

    private void release() {
        if (null != cumulation) {
            final ByteBuf cum = cumulation;
            cumulation = null;
            cum.release();
        }
    }
}
