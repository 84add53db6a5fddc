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
 * and a reader finding none here takes a new one from it. The bound is large enough for a burst (a container
 * printing faster than NATS takes it puts megabytes of records in flight: with 128 spares the arena churn came back
 * in such bursts), and {@link #trim} lets the spares go again, half of them each time it finds they were not needed
 * since its last call (the plugin calls it every few seconds), so an idle plugin holds none for long. Chunks of
 * another size (a long line's record gets a chunk of its own size) always go back to the allocator.
 *
 * <p><b>Allocation:</b> none per chunk once the list has spares (an array-backed queue: no node per chunk).
 * Thread-safe.
 */
public final class RecordChunks {
    /** Default most spare chunks kept: 8 MiB, for bursts; {@link #trim} gives them back when idle. */
    public static final int DEFAULT_SPARES = 1024;

    private final ByteBufAllocator allocator;
    private final ArrayBlockingQueue<ByteBuf> spares;
    /** A chunk was taken since the last {@link #trim}. */
    private volatile boolean taken;

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

    /** @return the allocator behind the chunks (also for buffers other than records). */
    public ByteBufAllocator allocator() {
        return allocator;
    }

    /**
     * @param capacity bytes the record needs; at least {@link EventQueue#CHUNK} are given.
     * @return an empty chunk: a spare if there is one and the record fits a standard chunk, else a new buffer.
     */
    ByteBuf take(final int capacity) {
        if (!taken) {
            taken = true; // read first: a busy reader does not write the shared flag for every chunk
        }
        if (capacity <= EventQueue.CHUNK) {
            final ByteBuf spare = spares.poll();
            if (null != spare) {
                return spare;
            }
            return allocator.directBuffer(EventQueue.CHUNK, EventQueue.CHUNK);
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
     * Gives half of the spares (at least one) back to the allocator if no chunk was taken since the last call.
     *
     * @return spares released.
     */
    public int trim() {
        if (taken) {
            taken = false;
            return 0;
        }
        return release((spares.size() + 1) / 2);
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
