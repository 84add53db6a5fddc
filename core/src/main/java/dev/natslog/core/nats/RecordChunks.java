package dev.natslog.core.nats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * The direct buffers {@link EventQueue}s keep their records in ({@link EventQueue#CHUNK} bytes each), handed from
 * the publishers that read them through back to the FIFO readers that fill them, shared by every queue of the
 * plugin.
 *
 * <p>Why not the pooled allocator alone: a record chunk is taken on a reader thread and given back on a publisher
 * thread. Netty's pool caches a freed buffer in the <i>freeing</i> thread's cache, where the reader never finds it,
 * so every chunk the reader took came from the arena: its subpages were made and dropped again, and now and then a
 * whole 4 MiB arena chunk went back and a new one was made — zeroed by {@code ByteBuffer.allocateDirect} and
 * faulted in page by page on the reader thread (seen with perf at 200,000 lines/s: {@code Unsafe_SetMemory0} and
 * page faults under the reader's allocations, ~5 % of the plugin's samples). Here a chunk read through goes back
 * on this list and the next reader takes it as it is.
 *
 * <p>Bounded: at most {@code spares} chunks wait here; past that a chunk given back is released to the allocator,
 * and a reader finding none here takes a new one from it. The plugin sizes the bound to its whole buffer
 * ({@link #sparesFor}): a flood fills the buffer, and with room for only a quarter of it as spares each later
 * flood took the other chunks from Netty's arena again — whose rarer paths (a new arena chunk, a thread cache's
 * periodic trim) then sent C2 back to recompile the reader's code, flood after flood (with 128 spares the arena
 * churn also came back as page faults). {@link #trim} lets spares go again: each call releases half of those that
 * were not needed since the last one (the fewest that waited at any take), so spares a busy plugin keeps are the
 * ones it used, and an idle plugin holds none after a minute (the plugin calls it every 5 s). Chunks of another
 * size (a long line's record gets a chunk of its own size) always go back to the allocator.
 *
 * <p><b>Allocation:</b> none per chunk once the list has spares (an array-backed queue: no node per chunk).
 * Thread-safe.
 */
public final class RecordChunks {
    /** The most spares {@link #sparesFor} gives, whatever the buffer: 512 MiB. */
    static final int MAX_SPARES = 65_536;
    /** Most spare chunks kept for the default buffer ({@link BufferBudget#DEFAULT_CAPACITY}, 32 MiB): 4,096. */
    public static final int DEFAULT_SPARES = sparesFor(BufferBudget.DEFAULT_CAPACITY);

    private final ByteBufAllocator allocator;
    private final ArrayBlockingQueue<ByteBuf> spares;
    /**
     * The fewest spares left after a take since the last {@link #trim}: that many were not needed meanwhile. Written
     * by the readers without a lock (a heuristic: a lost update only shifts a release by one trim).
     */
    private volatile int fewest = Integer.MAX_VALUE;

    /**
     * @param allocator where chunks come from and go back to beyond the spares (pooled, direct).
     * @param spares    most chunks kept for reuse.
     */
    public RecordChunks(final ByteBufAllocator allocator, final int spares) {
        if (spares < 1) {
            throw new IllegalArgumentException("spares (" + spares + ") must be at least 1");
        }
        this.allocator = allocator;
        this.spares = new ArrayBlockingQueue<>(spares);
    }

    /**
     * @param bufferBytes the plugin's buffer ({@code NATS_BUFFER_SIZE}).
     * @return spares enough for every chunk a full buffer holds (at least 1, at most {@link #MAX_SPARES}).
     */
    public static int sparesFor(final long bufferBytes) {
        return (int) Math.max(1, Math.min(MAX_SPARES, bufferBytes / EventQueue.CHUNK));
    }

    /** @return the allocator behind the chunks (also for buffers other than records). */
    public ByteBufAllocator allocator() {
        return allocator;
    }

    /**
     * @param capacity bytes the record needs; at least {@link EventQueue#CHUNK} are given.
     * @return an empty chunk: a spare if there is one and the record fits a standard chunk, else a new buffer.
     */
    ByteBuf take(final int capacity) {
        if (capacity <= EventQueue.CHUNK) {
            final ByteBuf spare = spares.poll();
            final int left = spares.size();
            if (left < fewest) {
                fewest = left;
            }
            return null != spare ? spare : allocator.directBuffer(EventQueue.CHUNK, EventQueue.CHUNK);
        }
        return allocator.directBuffer(capacity, capacity);
    }

    /** Gives back a chunk read through (or no longer needed): kept as a spare, or released. */
    void give(final ByteBuf chunk) {
        if (chunk.capacity() != EventQueue.CHUNK || !spares.offer(chunk.clear())) {
            chunk.release();
        }
    }

    /** @return spare chunks waiting now. */
    int spares() {
        return spares.size();
    }

    /**
     * Gives back to the allocator half (at least one) of the spares that were not needed since the last call: the
     * fewest that waited after any take meanwhile, or all of them if none was taken.
     *
     * @return spares released.
     */
    public int trim() {
        final int unneeded = Math.min(fewest, spares.size());
        fewest = Integer.MAX_VALUE;
        return release((unneeded + 1) / 2);
    }

    /** Releases the spares (shutdown); chunks given back later are kept again. */
    public void clear() {
        release(Integer.MAX_VALUE);
    }

    /** @return how many of the {@code most} spares asked for were released (fewer when there were fewer). */
    private int release(final int most) {
        int released = 0;
        ByteBuf c;
        while (released < most && null != (c = spares.poll())) {
            c.release();
            released++;
        }
        return released;
    }
}
