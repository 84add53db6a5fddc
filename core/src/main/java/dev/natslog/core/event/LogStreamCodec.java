package dev.natslog.core.event;

import dev.natslog.core.frame.FrameDecoder;
import dev.natslog.core.frame.LogEntryLayout;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The whole per-line path of one container's stream: FIFO bytes → {@link FrameDecoder} →
 * {@link LineAssembler} → {@link JsonEventEncoder} → one {@code byte[]} per event to an {@link EventSink}.
 * The plugin splits it in two ({@link Factory#createForLines}): the FIFO's thread decodes and hands on each
 * {@link LogLine}, which is queued as bytes and encoded on the publisher's thread just before it is published.
 *
 * <p><b>Allocation:</b> per line, only the event's {@code byte[]}, or nothing with a line sink (see the stages' own
 * notes).
 * Not thread-safe: one per stream, driven by one thread at a time.
 */
public final class LogStreamCodec implements AutoCloseable {
    /** Receives each encoded event. */
    @FunctionalInterface
    public interface EventSink {
        /**
         * @param event        the event's UTF-8 JSON bytes; a fresh array the sink may keep.
         * @param resumeOffset stream offset a replay would start from once this event (and every one before it)
         *                     is confirmed; see {@link LogLine#resumeOffset()}.
         */
        void onEvent(byte[] event, long resumeOffset);
    }

    /** Makes codecs that share one allocator and the same limits. */
    public record Factory(ByteBufAllocator allocator, int maxFrameLength, int maxLineLength) {
        /**
         * @param prefix the container's rendered prefix.
         * @param sink   receives its events.
         * @return a new codec.
         */
        public LogStreamCodec create(final byte[] prefix, final EventSink sink) {
            return new LogStreamCodec(allocator, prefix, maxFrameLength, maxLineLength, sink);
        }

        /**
         * @param sink receives each line (a reused view, valid during the call); nothing is encoded.
         * @return a new codec that stops at the lines.
         */
        public LogStreamCodec createForLines(final LineAssembler.Sink sink) {
            return new LogStreamCodec(sink, allocator, maxFrameLength, maxLineLength);
        }
    }

    private final FrameDecoder decoder;
    private final LineAssembler assembler;
    private final JsonEventEncoder encoder; // null with a line sink
    private long events;
    private long eventBytes;
    private boolean closed;

    /**
     * @param allocator      pooled allocator for the stages' buffers.
     * @param prefix         the container's rendered prefix ({@link JsonEventEncoder#renderPrefix}).
     * @param maxFrameLength largest frame accepted (bytes).
     * @param maxLineLength  cap of one reassembled line (bytes).
     * @param sink           receives every event, on the decoding thread.
     */
    public LogStreamCodec(final ByteBufAllocator allocator, final byte[] prefix, final int maxFrameLength,
                          final int maxLineLength, final EventSink sink) {
        this(allocator, prefix, maxFrameLength, maxLineLength, sink, null);
    }

    private LogStreamCodec(final ByteBufAllocator allocator, final byte[] prefix, final int maxFrameLength,
                           final int maxLineLength, final EventSink sink,
                           final java.util.function.Consumer<ByteBuf> inPlaceSink) {
        this.encoder = new JsonEventEncoder(prefix, allocator);
        this.assembler = new LineAssembler(allocator, maxLineLength, null == inPlaceSink ? line -> {
            final byte[] event = encoder.encode(line);
            events++;
            eventBytes += event.length;
            sink.onEvent(event, line.resumeOffset());
        } : line -> {
            final ByteBuf event = encoder.encodeInPlace(line);
            events++;
            eventBytes += event.readableBytes();
            inPlaceSink.accept(event);
        });
        this.decoder = new FrameDecoder(allocator, maxFrameLength, assembler);
    }

    private LogStreamCodec(final LineAssembler.Sink sink, final ByteBufAllocator allocator, final int maxFrameLength,
                           final int maxLineLength) {
        this.encoder = null;
        this.assembler = new LineAssembler(allocator, maxLineLength, line -> {
            events++;
            eventBytes += line.textLength();
            sink.onLine(line);
        });
        this.decoder = new FrameDecoder(allocator, maxFrameLength, assembler);
    }

    /**
     * @param in bytes read from the FIFO; all consumed, not released (the caller owns it).
     */
    public void decode(final ByteBuf in) {
        decoder.decode(in);
    }

    /** End of stream: emits what is still buffered (an unfinished frame is counted as skipped). */
    public void finish() {
        decoder.decodeLast();
        assembler.finish();
    }

    /**
     * A codec that stops at the encoder's pooled scratch buffer (no {@code byte[]} per event), handing it to
     * {@code sink}: for benchmarks that measure what the path itself allocates.
     */
    public static LogStreamCodec inPlaceForBenchmarks(final ByteBufAllocator allocator, final byte[] prefix,
                                                       final java.util.function.Consumer<ByteBuf> sink) {
        return new LogStreamCodec(allocator, prefix, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH,
            LineAssembler.DEFAULT_MAX_LINE_LENGTH, null, sink);
    }

    /** @return the frame decoder, for its counters. */
    public FrameDecoder decoder() {
        return decoder;
    }

    /** @return events (or lines, with a line sink) emitted so far. */
    public long events() {
        return events;
    }

    /** @return bytes of events (or of line text, with a line sink) emitted so far. */
    public long eventBytes() {
        return eventBytes;
    }

    /** @return pieces of lines emitted (over the cap, or cut by the end of the stream). */
    public long pieces() {
        return assembler.piecesEmitted();
    }

    /** Releases every buffer. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            decoder.close();
            assembler.close();
            if (null != encoder) {
                encoder.close();
            }
        }
    }
}
