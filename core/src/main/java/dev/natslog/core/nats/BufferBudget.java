package dev.natslog.core.nats;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The plugin-wide bound on event bytes waiting for NATS. A FIFO reader reserves an event's size before queueing
 * it and, when the budget is spent, drops the event instead of waiting; the publisher gives the bytes back once
 * NATS has confirmed them. So the FIFOs are always drained, and memory stays bounded whatever NATS does.
 */
public final class BufferBudget {
    /** Default bound: 32 MiB across the plugin. */
    public static final long DEFAULT_CAPACITY = 32L * 1024 * 1024;

    private final long capacity;
    private final AtomicLong used = new AtomicLong();

    /**
     * @param capacity bytes that may wait for NATS at once.
     */
    public BufferBudget(final long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity (" + capacity + ") must be positive");
        }
        this.capacity = capacity;
    }

    /**
     * @param bytes to reserve.
     * @return true if reserved; false if that would pass the bound (nothing reserved).
     */
    public boolean tryReserve(final long bytes) {
        while (true) {
            final long u = used.get();
            if (u + bytes > capacity) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    /** @param bytes earlier reserved, now sent or discarded. */
    public void release(final long bytes) {
        used.addAndGet(-bytes);
    }

    /** @return bytes reserved now. */
    public long used() {
        return used.get();
    }

    /** @return the bound. */
    public long capacity() {
        return capacity;
    }
}
