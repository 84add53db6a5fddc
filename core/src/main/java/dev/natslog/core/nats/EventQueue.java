package dev.natslog.core.nats;

import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LogLine;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The lines of one stream waiting for its connection's publisher, in order. One producer (the stream's FIFO
 * reader), one consumer (the publisher), under the queue's own lock — which the reader takes once per FIFO read:
 * it {@link #stage}s each line's record in a chunk of its own and {@link #commit}s them after the read (the chunk
 * itself joins the queue when the queue has no room at its end, so a busy stream's records are not copied twice).
 * The publisher took the lock for every event while the reader took it for every line; perf showed the reader
 * spinning on it.
 *
 * <p><b>It holds lines, not events.</b> {@link #add} copies the line (text, source, time, partial metadata, resume
 * offset) as one record into a chain of pooled direct chunks of {@link #CHUNK} bytes (a record never straddles two;
 * a longer line gets a chunk of its own size); {@link #pollInto} encodes the oldest record into its JSON event
 * on the publisher thread, straight into the batch about to be published. So a waiting line costs its own bytes plus
 * {@link #RECORD_HEADER} — about a tenth of its event for a 100-byte line, which repeats the container's metadata —
 * it is not a heap object the garbage collector copies while NATS is slow, and the event arrays live only from
 * publish to confirmation.
 *
 * <p>Events taken but not confirmed (a flush failed) are put back as arrays ({@link #pushBack}) and go out first.
 *
 * <p>It may have a bound of its own ({@code nats-buffer-size}) on the bytes of its records waiting for NATS (queued
 * or in flight), besides the plugin-wide {@link BufferBudget}.
 *
 * <p>{@link #confirmedResume()} is the resume offset of the last event NATS confirmed: a replay of the stream
 * from there (after a crash) loses nothing. The publisher hands it to the queue's {@code checkpoint} right after
 * each flush that confirmed some of its events, so a crash sends again at most what was in flight. The two other
 * moves of it are recorded where they happen, as no flush follows them: lines dropped while nothing of the queue
 * waits (on the reader thread, at the read's commit) and an event discarded while nothing before it waits (on the
 * publisher). So nothing has to visit idle queues to find a move: an idle stream costs no CPU.
 *
 * <p><b>Allocation:</b> none per line ({@link #pollInto} encodes straight into the publisher's {@link PubBatch});
 * chunks from the plugin's {@link RecordChunks} as records need them, each given back there as soon as it is read
 * (for a reader to fill again), so the direct memory held is the waiting records, at most one partly used chunk per
 * non-empty queue and the bounded spares — never a reallocation, never a copy of what waits.
 */
public final class EventQueue {
    /** Bytes of a record besides its text, source and partial id. */
    public static final int RECORD_HEADER = 4 + 8 + 8 + 4 + 4 + 4 + 4 + 1;
    /** Bytes of a record chunk (a pooled allocator's page; {@link RecordChunks}). */
    public static final int CHUNK = 8 * 1024;
    private static final byte PARTIAL = 1;
    private static final byte PARTIAL_LAST = 2;

    private final String subject;
    private final byte[] pubPrefix;
    private final String name;
    /** True while the queue is on its publisher's ready list (so it is put there once). */
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong sentBytes = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedBytes = new AtomicLong();
    private volatile long confirmedResume;
    /** This queue's own bound; null when only the plugin-wide one applies. */
    private final BufferBudget bound;
    private final RecordChunks chunkSource;
    private final JsonEventEncoder encoder;
    private final LogLine view = new LogLine();
    /** Chunks of records of waiting lines, oldest first, each read from its reader index. */
    private final java.util.ArrayDeque<ByteBuf> chunks = new java.util.ArrayDeque<>();
    private int lines;
    /**
     * Records the reader wrote since its last {@link #commit}, in a chunk of its own (reader thread only; null when
     * none): the publisher sees them once committed, so the reader takes the queue's lock once per FIFO read rather
     * than once per line.
     */
    private ByteBuf staged;
    private int stagedLines;
    /** Lines were handed over by {@link #stage} itself since the last {@link #commit} (reader thread only). */
    private boolean shownSinceCommit;
    /**
     * A line of ordinary size in the read being decoded found no room: the rest of the read is dropped (reader thread
     * only; see {@link #stageOrDrop}).
     */
    private boolean droppingRead;
    /** Lines of the read dropped so far, added to the counters at its {@link #commit} (reader thread only). */
    private int readDrops;
    private long readDropBytes;
    private long readDropResume;
    // events put back: a ring of arrays, their resume offsets and their reserved sizes
    private byte[][] retry = new byte[4][];
    private long[] retryResume = new long[4];
    private int[] retryReserved = new int[4];
    private int retryHead;
    private int retrySize;
    private boolean ended;
    private boolean closed;
    private int inflight;
    private Runnable onDrained;
    private final java.util.function.LongConsumer checkpoint;

    /**
     * @param subject       where the events go.
     * @param name          the container, for logs.
     * @param initialResume the stream offset a replay would start from before any event is confirmed.
     * @param bound         the most record bytes this queue may hold waiting for NATS; 0 for no bound of its own.
     * @param prefix        the container's rendered event prefix ({@link JsonEventEncoder#renderPrefix}).
     * @param chunks        where the record chunks come from and go back to (shared by the plugin's queues); its
     *                      allocator gives the encoder's scratch buffer.
     * @param checkpoint    records a new {@link #confirmedResume()} (the stream's journal); runs on the publisher,
     *                      or on the reader thread for dropped lines (so it must be thread-safe).
     */
    public EventQueue(final String subject, final String name, final long initialResume, final long bound,
                      final byte[] prefix, final RecordChunks chunks,
                      final java.util.function.LongConsumer checkpoint) {
        this.subject = subject;
        this.pubPrefix = PubBatch.pubPrefix(subject);
        this.name = name;
        this.confirmedResume = initialResume;
        this.bound = bound > 0 ? new BufferBudget(bound) : null;
        this.chunkSource = chunks;
        this.encoder = new JsonEventEncoder(prefix, chunks.allocator());
        this.checkpoint = checkpoint;
    }

    public String subject() {
        return subject;
    }

    /** @return {@code "PUB <subject> "} ({@link PubBatch#pubPrefix}; not to be modified). */
    byte[] pubPrefix() {
        return pubPrefix;
    }

    public String name() {
        return name;
    }

    /** @return this queue's own bound in bytes, or 0. */
    public long bound() {
        return null == bound ? 0 : bound.capacity();
    }

    /** @return the bytes {@link #add} takes for this line (what the budgets are charged). */
    public static int recordSize(final LogLine line) {
        return RECORD_HEADER + line.textLength() + line.sourceLength() + (line.partial() ? line.partialIdLength() : 0);
    }

    /** @return false when the record would pass this queue's own bound (nothing reserved then). */
    boolean tryReserve(final long bytes) {
        return null == bound || bound.tryReserve(bytes);
    }

    /** Gives back what {@link #tryReserve} took, once the event is confirmed or given up. */
    void release(final long bytes) {
        if (null != bound) {
            bound.release(bytes);
        }
    }

    /** Copies a line in as one record of {@link #recordSize} bytes, visible to the publisher at once. */
    synchronized void add(final LogLine line, final int size) {
        if (closed) {
            return;
        }
        writeRecord(tailWithRoom(size), line, size);
        lines++;
    }

    /**
     * The FIFO reader's way in: {@link #stage}s the line if this queue's bound and the plugin's budget both take its
     * record, else drops it. Once a line of ordinary size (a record within a {@link #CHUNK}) is dropped, the rest of
     * that read is dropped without asking the budgets again — they free space in bulk, once per flush, so the answer
     * would rarely change within a read — and the drops are counted at the read's {@link #commit}: a dropped line
     * costs its decoding and a few stores, no atomic, no lock. A longer line that finds no room is dropped alone:
     * shorter ones after it may still fit. Reader thread only.
     *
     * @param line   the decoded line.
     * @param budget the plugin-wide buffer.
     * @return true if staged; false if dropped (counted).
     * @throws OutOfMemoryError no direct memory for a chunk: the line is dropped (counted, nothing reserved).
     */
    boolean stageOrDrop(final LogLine line, final BufferBudget budget) {
        final int size = recordSize(line);
        if (!droppingRead && tryReserve(size)) {
            if (budget.tryReserve(size)) {
                try {
                    stage(line, size);
                    return true;
                } catch (final OutOfMemoryError e) {
                    budget.release(size);
                    release(size);
                    dropInRead(size, line.resumeOffset());
                    throw e;
                }
            }
            release(size);
        }
        droppingRead |= size <= CHUNK;
        dropInRead(size, line.resumeOffset());
        return false;
    }

    private void dropInRead(final int size, final long resume) {
        readDrops++;
        readDropBytes += size;
        readDropResume = resume;
    }

    /**
     * Copies a line in as one record, seen by the publisher only after the next {@link #commit}: the FIFO reader's
     * way, one lock per read. Reader thread only.
     */
    void stage(final LogLine line, final int size) {
        if (size > CHUNK) { // a long line's record gets a chunk of its own, as in add()
            commit();
            add(line, size);
            shownSinceCommit = true;
            return;
        }
        if (null != staged && staged.writableBytes() < size) {
            commit();
            shownSinceCommit = true;
        }
        if (null == staged) {
            staged = chunkSource.take(size);
        }
        writeRecord(staged, line, size);
        stagedLines++;
    }

    /**
     * Hands the staged records to the publisher (copied into the queue's chunks under its lock, each record whole in
     * one chunk). Reader thread only.
     *
     * @return true when records were handed over, by this call or by {@link #stage} since the last one (a long line,
     *     a full staging chunk): the publisher is to be told.
     */
    boolean commit() {
        droppingRead = false;
        if (0 != readDrops) {
            countDrops(readDrops, readDropBytes, readDropResume);
            readDrops = 0;
            readDropBytes = 0;
        }
        if (0 == stagedLines) {
            final boolean shown = shownSinceCommit;
            shownSinceCommit = false;
            return shown;
        }
        shownSinceCommit = false;
        final ByteBuf s = staged;
        final int n = stagedLines;
        staged = null;
        stagedLines = 0;
        synchronized (this) {
            if (!closed) {
                final ByteBuf r = chunks.peekLast();
                if (null != r && r.writableBytes() >= s.readableBytes()) {
                    r.writeBytes(s); // all of them fit at the queue's end: one copy
                } else {
                    // the last chunk takes what fits, record by record; the rest joins the queue in the staged chunk
                    while (null != r && s.isReadable() && r.writableBytes() >= s.getInt(s.readerIndex())) {
                        r.writeBytes(s, s.getInt(s.readerIndex()));
                    }
                }
                lines += n;
                if (s.isReadable()) {
                    chunks.addLast(s); // the staged chunk itself: no copy
                    return true;
                }
            }
        }
        chunkSource.give(s);
        return true;
    }

    /** Under the lock: the last chunk if it has room for a record of this size, else a new last chunk. */
    private ByteBuf tailWithRoom(final int size) {
        ByteBuf r = chunks.peekLast();
        if (null == r || r.writableBytes() < size) {
            r = chunkSource.take(size);
            chunks.addLast(r);
        }
        return r;
    }

    private static void writeRecord(final ByteBuf r, final LogLine line, final int size) {
        r.writeInt(size);
        r.writeLong(line.resumeOffset());
        r.writeLong(line.timeNano());
        r.writeInt(line.textLength());
        r.writeInt(line.sourceLength());
        r.writeInt(line.partial() ? line.partialIdLength() : 0);
        r.writeInt(line.partial() ? line.partialOrdinal() : 0);
        r.writeByte(line.partial() ? (line.partialLast() ? PARTIAL | PARTIAL_LAST : PARTIAL) : 0);
        r.writeBytes(line.source(), line.sourceOffset(), line.sourceLength());
        if (line.partial()) {
            r.writeBytes(line.partialId(), line.partialIdOffset(), line.partialIdLength());
        }
        r.writeBytes(line.text(), line.textOffset(), line.textLength());
    }

    /** {@link #pollInto}: no event waits. */
    static final int NONE = 0;
    /** {@link #pollInto}: the oldest event went into the batch. */
    static final int TAKEN = 1;
    /** {@link #pollInto}: the batch may not have room for the oldest event: hand it over, then call again. */
    static final int NO_ROOM = 2;

    /**
     * Takes the oldest event into a batch (a put-back one first, else the oldest line, encoded straight into it).
     *
     * @param batch       the publisher's batch; the event's place in it is {@link PubBatch#lastOffset()} and
     *                    {@link PubBatch#lastSize()}.
     * @param resumeOut   gets its resume offset at {@code index}.
     * @param reservedOut gets the bytes reserved for it at {@code index}, to be released when it is done.
     * @return {@link #TAKEN}, {@link #NONE} or {@link #NO_ROOM} (nothing taken).
     */
    synchronized int pollInto(final PubBatch batch, final long[] resumeOut, final int[] reservedOut,
                              final int index) {
        if (closed) {
            return NONE;
        }
        if (0 != retrySize) {
            final byte[] e = retry[retryHead];
            if (!batch.fits(pubPrefix, e.length)) {
                return NO_ROOM;
            }
            batch.add(pubPrefix, io.netty.buffer.Unpooled.wrappedBuffer(e));
            resumeOut[index] = retryResume[retryHead];
            reservedOut[index] = retryReserved[retryHead];
            retry[retryHead] = null;
            retryHead = (retryHead + 1) & (retry.length - 1);
            retrySize--;
            inflight++;
            return TAKEN;
        }
        if (0 == lines) {
            return NONE;
        }
        final ByteBuf r = chunks.peekFirst();
        final int start = r.readerIndex();
        final int size = r.getInt(start);
        final long resume = r.getLong(start + 4);
        final long time = r.getLong(start + 12);
        final int textLength = r.getInt(start + 20);
        final int sourceLength = r.getInt(start + 24);
        final int idLength = r.getInt(start + 28);
        final int ordinal = r.getInt(start + 32);
        final byte flags = r.getByte(start + 36);
        final int source = start + RECORD_HEADER;
        view.set(r, source + sourceLength + idLength, textLength, r, source, sourceLength, time);
        if (0 != (flags & PARTIAL)) {
            view.markPartial(r, source + sourceLength, idLength, ordinal, 0 != (flags & PARTIAL_LAST));
        }
        if (!batch.add(pubPrefix, encoder, view)) {
            return NO_ROOM; // the record stays: encoded again into the next batch
        }
        r.readerIndex(start + size);
        lines--;
        if (!r.isReadable()) {
            chunkSource.give(chunks.pollFirst()); // read through: for a reader to fill again (also the last one: an idle queue holds none)
        }
        resumeOut[index] = resume;
        reservedOut[index] = size;
        inflight++;
        return TAKEN;
    }

    /** Puts an event that was taken but not confirmed back at the head. */
    synchronized void pushBack(final byte[] event, final long resume, final int reserved) {
        if (retrySize == retry.length) {
            growRetry();
        }
        retryHead = (retryHead - 1) & (retry.length - 1);
        retry[retryHead] = event;
        retryResume[retryHead] = resume;
        retryReserved[retryHead] = reserved;
        retrySize++;
        inflight--;
    }

    private void growRetry() {
        final int n = retry.length;
        final byte[][] e = new byte[n * 2][];
        final long[] r = new long[n * 2];
        final int[] s = new int[n * 2];
        for (int i = 0; i < retrySize; i++) {
            e[i] = retry[(retryHead + i) & (n - 1)];
            r[i] = retryResume[(retryHead + i) & (n - 1)];
            s[i] = retryReserved[(retryHead + i) & (n - 1)];
        }
        retry = e;
        retryResume = r;
        retryReserved = s;
        retryHead = 0;
    }

    /** @return true when the queue holds lines or put-back events. */
    public synchronized boolean hasEvents() {
        return 0 != lines || 0 != retrySize;
    }

    /**
     * Events taken by {@link #pollInto} were confirmed by NATS: a run of this queue's events in one flush, settled
     * together (one lock and two atomic adds for the run rather than per event: the reader thread takes the same
     * lock for every line it queues).
     *
     * @param events      how many.
     * @param bytes       their events' bytes.
     * @param lastResume  the resume offset of the last of them.
     */
    void confirmed(final int events, final long bytes, final long lastResume) {
        sent.addAndGet(events);
        sentBytes.addAndGet(bytes);
        final Runnable done;
        synchronized (this) {
            inflight -= events;
            advance(lastResume);
            done = drainedAction();
        }
        if (null != done) {
            done.run(); // they were the last
        }
    }

    /** Hands the resume offset of the last confirmed event to the checkpoint (after a flush confirmed some). */
    void checkpoint() {
        checkpoint.accept(confirmedResume);
    }

    /**
     * An event taken by {@link #pollInto} cannot ever be sent (e.g. over the server's max_payload). The resume offset
     * moves past it only if nothing taken before it is still in flight or put back (a replay from past it would lose
     * them); else the confirmation of those moves it later, to their own offset, and a replay decodes the discarded
     * line again, to discard it again.
     */
    void discarded(final int eventLength, final long resume) {
        dropped.incrementAndGet();
        droppedBytes.addAndGet(eventLength);
        final Runnable done;
        final boolean moved;
        synchronized (this) {
            inflight--;
            moved = 0 == inflight && 0 == retrySize && advance(resume);
            done = drainedAction();
        }
        if (moved) {
            checkpoint.accept(resume); // no flush confirms anything of this queue for it
        }
        if (null != done) {
            done.run();
        }
    }

    /**
     * Moves {@link #confirmedResume()} forward to {@code resume}, never back. Holding the queue's lock.
     *
     * @return whether it moved.
     */
    private boolean advance(final long resume) {
        if (resume <= confirmedResume) {
            return false;
        }
        confirmedResume = resume;
        return true;
    }

    /**
     * Lines of a read were dropped before queueing (the buffer is full), the last of them at {@code resume}. On the
     * reader thread, at the read's {@link #commit} (it reads the staged count).
     */
    private void countDrops(final int n, final long bytes, final long resume) {
        dropped.addAndGet(n);
        droppedBytes.addAndGet(bytes);
        final boolean moved;
        synchronized (this) {
            // nothing before it waits: a replay need not start before it
            moved = 0 == lines && 0 == stagedLines && 0 == retrySize && 0 == inflight && advance(resume);
        }
        if (moved) {
            checkpoint.accept(resume); // here, on the reader thread: nothing waits, so no flush will
        }
    }

    /**
     * No more lines will come; {@code whenDrained} runs once every queued event is confirmed or discarded (at
     * once if that is so already).
     */
    public void end(final Runnable whenDrained) {
        final Runnable done;
        synchronized (this) {
            ended = true;
            onDrained = whenDrained;
            done = drainedAction();
        }
        if (null != done) {
            done.run();
        }
    }

    private Runnable drainedAction() {
        if (ended && 0 == lines && 0 == retrySize && 0 == inflight && null != onDrained) {
            final Runnable r = onDrained;
            onDrained = null;
            return r;
        }
        return null;
    }

    /** Releases the record buffer and the encoder; what still waits is forgotten (the journal keeps it). */
    public synchronized void close() {
        if (!closed) {
            closed = true;
            ByteBuf c;
            while (null != (c = chunks.pollFirst())) {
                chunkSource.give(c);
            }
            lines = 0;
            if (null != staged) { // closed after its reader ended (the reader's records are never committed now)
                chunkSource.give(staged);
                staged = null;
                stagedLines = 0;
            }
            encoder.close();
        }
    }

    /** @return lines waiting: queued, put back, or published and not yet confirmed. */
    public synchronized long waiting() {
        return (long) lines + retrySize + inflight;
    }

    /** @return the resume offset of the last confirmed event. */
    public long confirmedResume() {
        return confirmedResume;
    }

    /** @return events NATS confirmed. */
    public long sent() {
        return sent.get();
    }

    /** @return bytes of the events NATS confirmed. */
    public long sentBytes() {
        return sentBytes.get();
    }

    /** @return lines dropped (buffer full, or an event too large for the server). */
    public long dropped() {
        return dropped.get();
    }

    /** @return bytes of dropped lines (their records) and events. */
    public long droppedBytes() {
        return droppedBytes.get();
    }
}
