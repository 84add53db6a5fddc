package dev.natslog.core.event;

import dev.natslog.core.frame.FrameDecoder;
import dev.natslog.core.frame.LogEntry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Turns LogEntries into whole lines: dockerd cuts lines longer than 16 KiB into chunks (every chunk
 * {@code partial=true}, with metadata {@code {id, ordinal 1, 2, …}}, {@code last=true} on the final one); this
 * joins them back into one line carrying the first chunk's time.
 *
 * <ul>
 *   <li>Lines are kept apart by partial id, so stdout and stderr (or any other line) may interleave with a
 *   split line. At most {@link #MAX_PENDING_LINES} lines are gathered at once; a further one pushes out the
 *   least recently fed, emitted as a piece.</li>
 *   <li>Bounded: past {@code maxLineLength} bytes, what was gathered is emitted as a piece
 *   ({@link LogLine#partial()}: id, ordinal of its last chunk, {@code last=false}) and gathering carries on;
 *   the line's final piece then has {@code last=true}.</li>
 *   <li>{@link #finish()} (end of stream) emits every line still being gathered as a piece with
 *   {@code last=false}.</li>
 *   <li>Chunks without metadata (engines before 19.x: {@code partial=true} on every chunk but the last, which is
 *   not partial) are joined per source.</li>
 * </ul>
 *
 * <p><b>Allocation:</b> none for a line that came whole: the {@link LogLine} handed on points into the frame.
 * A line being gathered holds one pooled buffer, taken at its first chunk and released when it is emitted.
 *
 * <p>Not thread-safe: one per stream, on the decoding thread.
 */
public final class LineAssembler implements FrameDecoder.Handler, AutoCloseable {
    /** Receives each line; the {@link LogLine} is valid only during the call. */
    @FunctionalInterface
    public interface Sink {
        void onLine(LogLine line);
    }

    /** Lines gathered at the same time, at most (stdout and stderr need two). */
    public static final int MAX_PENDING_LINES = 8;

    /** Default cap of one line, in bytes. */
    public static final int DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

    private final ByteBufAllocator allocator;
    private final int maxLineLength;
    private final Sink sink;
    private final LogLine line = new LogLine();
    private final Pending[] pending = new Pending[MAX_PENDING_LINES];
    private long clock;
    private long piecesEmitted;
    private long lastFrameEnd;

    /**
     * @param allocator     for the buffers of lines being gathered.
     * @param maxLineLength cap of one gathered line in bytes; past it, a piece is emitted.
     * @param sink          receives every line.
     */
    public LineAssembler(final ByteBufAllocator allocator, final int maxLineLength, final Sink sink) {
        if (maxLineLength < 1) {
            throw new IllegalArgumentException("maxLineLength (" + maxLineLength + ") must be at least 1");
        }
        this.allocator = allocator;
        this.maxLineLength = maxLineLength;
        this.sink = sink;
        for (int i = 0; i < pending.length; i++) {
            pending[i] = new Pending();
        }
    }

    @Override
    public void onEntry(final LogEntry e) {
        final ByteBuf buf = e.buffer();
        lastFrameEnd = e.frameEnd();
        if (!e.partial()) {
            final Pending p = find(true, buf, e.sourceOffset(), e.sourceLength());
            if (null == p) {
                sink.onLine(line.set(buf, e.lineOffset(), e.lineLength(),
                    buf, e.sourceOffset(), e.sourceLength(), e.timeNano()).resumeOffset(resumeAfter(null, e.frameEnd())));
            } else {
                // the non-partial end of a line whose chunks had no metadata
                append(p, e, p.lastOrdinal + 1, true);
            }
            return;
        }

        final boolean legacy = !e.hasPartialMetadata();
        final int keyOffset = legacy ? e.sourceOffset() : e.partialIdOffset();
        final int keyLength = legacy ? e.sourceLength() : e.partialIdLength();
        final int ordinal = legacy ? 0 : e.partialOrdinal();
        Pending p = find(legacy, buf, keyOffset, keyLength);
        if (null == p) {
            if (!legacy && e.partialLast() && ordinal <= 1 && e.lineLength() <= maxLineLength) {
                // a line in one chunk: nothing to gather
                sink.onLine(line.set(buf, e.lineOffset(), e.lineLength(),
                    buf, e.sourceOffset(), e.sourceLength(), e.timeNano()).resumeOffset(resumeAfter(null, e.frameEnd())));
                return;
            }
            p = start(legacy, e, keyOffset, keyLength);
        }
        append(p, e, legacy ? p.lastOrdinal + 1 : ordinal, !legacy && e.partialLast());
    }

    /** End of the stream: every line still being gathered is emitted as a piece with {@code last=false}. */
    public void finish() {
        for (final Pending p : pending) {
            if (p.active) {
                emit(p, false, resumeAfter(p, lastFrameEnd));
            }
        }
    }

    /** @return pieces emitted so far (lines over the cap, or cut by the end of the stream). */
    public long piecesEmitted() {
        return piecesEmitted;
    }

    /** Releases the buffers of lines still being gathered, without emitting them. Idempotent. */
    @Override
    public void close() {
        for (final Pending p : pending) {
            p.free();
        }
    }

    /**
     * @return where a replay would start once the line being emitted is confirmed: {@code candidate}, or the
     * start of an earlier line still being gathered (other than {@code exclude}).
     */
    private long resumeAfter(final Pending exclude, final long candidate) {
        long min = candidate;
        for (final Pending p : pending) {
            if (p.active && p != exclude && p.startOffset < min) {
                min = p.startOffset;
            }
        }
        return min;
    }

    private Pending find(final boolean legacy, final ByteBuf buf, final int keyOffset, final int keyLength) {
        for (final Pending p : pending) {
            if (p.active && p.legacy == legacy && p.keyMatches(buf, keyOffset, keyLength)) {
                return p;
            }
        }
        return null;
    }

    private Pending start(final boolean legacy, final LogEntry e, final int keyOffset, final int keyLength) {
        Pending free = null;
        Pending oldest = null;
        for (final Pending p : pending) {
            if (!p.active) {
                free = p;
                break;
            }
            if (null == oldest || p.lastUsed < oldest.lastUsed) {
                oldest = p;
            }
        }
        if (null == free) {
            emit(oldest, false, resumeAfter(oldest, e.frameStart()));
            free = oldest;
        }
        final ByteBuf buf = e.buffer();
        free.start(allocator, legacy, buf, e.sourceOffset(), e.sourceLength(), keyOffset, keyLength, e.timeNano(),
            e.lineLength());
        free.startOffset = e.frameStart();
        // chunks before this one were never seen (e.g. the plugin restarted mid-line): it cannot be whole
        free.cut = !legacy && e.partialOrdinal() > 1;
        return free;
    }

    /** Adds a chunk to a gathered line; when {@code ends}, the line is emitted and its slot freed. */
    private void append(final Pending p, final LogEntry e, final int ordinal, final boolean ends) {
        p.lastUsed = ++clock;
        final int length = e.lineLength();
        if (p.data.readableBytes() + length > maxLineLength) {
            if (p.data.isReadable()) {
                emitPiece(p, false, resumeAfter(p, e.frameStart()));
                p.data.clear();
                p.startOffset = e.frameStart();
            }
            if (length > maxLineLength) {
                // one chunk over the cap on its own: pass it on as a piece, from the frame
                p.cut = true;
                p.lastOrdinal = ordinal;
                piecesEmitted++;
                sink.onLine(line.set(e.buffer(), e.lineOffset(), length, p.meta, 0, p.sourceLength, p.timeNano)
                    .markPartial(p.meta, p.sourceLength, p.keyLength, ordinal, ends)
                    .resumeOffset(resumeAfter(p, e.frameEnd())));
                p.startOffset = e.frameEnd();
                if (ends) {
                    p.free();
                }
                return;
            }
        }
        p.data.writeBytes(e.buffer(), e.lineOffset(), length);
        p.lastOrdinal = ordinal;
        if (ends) {
            emit(p, true, resumeAfter(p, e.frameEnd()));
        }
    }

    /** Emits a gathered line and frees its slot: whole, or as the final piece when it was cut before. */
    private void emit(final Pending p, final boolean ended, final long resume) {
        if (ended && !p.cut) {
            sink.onLine(line.set(p.data, p.data.readerIndex(), p.data.readableBytes(),
                p.meta, 0, p.sourceLength, p.timeNano).resumeOffset(resume));
        } else {
            emitPiece(p, ended, resume);
        }
        p.free();
    }

    private void emitPiece(final Pending p, final boolean last, final long resume) {
        p.cut = true;
        piecesEmitted++;
        sink.onLine(line.set(p.data, p.data.readerIndex(), p.data.readableBytes(), p.meta, 0, p.sourceLength, p.timeNano)
            .markPartial(p.meta, p.sourceLength, p.keyLength, p.lastOrdinal, last).resumeOffset(resume));
    }

    /** A line being gathered. {@code meta} holds its source bytes, then its key (partial id, or the source). */
    private static final class Pending {
        boolean active;
        boolean legacy;
        boolean cut;
        ByteBuf meta;
        int sourceLength;
        int keyLength;
        ByteBuf data;
        long timeNano;
        int lastOrdinal;
        long lastUsed;
        /** Stream offset of the first frame not yet emitted of this line: a replay from there rebuilds it. */
        long startOffset;

        void start(final ByteBufAllocator allocator, final boolean legacy, final ByteBuf buf,
                   final int sourceOffset, final int sourceLength, final int keyOffset, final int keyLength,
                   final long timeNano, final int firstChunkLength) {
            this.active = true;
            this.legacy = legacy;
            this.cut = false;
            this.meta = allocator.heapBuffer(sourceLength + keyLength);
            this.meta.writeBytes(buf, sourceOffset, sourceLength).writeBytes(buf, keyOffset, keyLength);
            this.sourceLength = sourceLength;
            this.keyLength = keyLength;
            // room for two chunks: dockerd's 16 KiB ones take 32 KiB at once, short ones (a writer that flushes
            // mid-line) no more than they need; the buffer grows by doubling past that
            this.data = allocator.heapBuffer(Math.min(32 * 1024, Math.max(256, 2 * firstChunkLength)));
            this.timeNano = timeNano;
            this.lastOrdinal = 0;
        }

        boolean keyMatches(final ByteBuf buf, final int offset, final int length) {
            if (length != keyLength) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (buf.getByte(offset + i) != meta.getByte(sourceLength + i)) {
                    return false;
                }
            }
            return true;
        }

        void free() {
            active = false;
            if (null != data) {
                data.release();
                data = null;
            }
            if (null != meta) {
                meta.release();
                meta = null;
            }
        }
    }
}
