package dev.natslog.core.nats;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The events of one stream waiting for its connection's publisher, in order. One producer (the stream's FIFO
 * reader), one consumer (the publisher), under the queue's own lock: {@link ArrayDeque} allocates nothing per
 * event.
 */
public final class EventQueue {
    private final String subject;
    private final String name;
    private final ArrayDeque<byte[]> events = new ArrayDeque<>();
    /** True while the queue is on its publisher's ready list (so it is put there once). */
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedBytes = new AtomicLong();
    private volatile boolean ended;
    private int inflight;
    private Runnable onDrained;

    /**
     * @param subject where the events go.
     * @param name    the container, for logs.
     */
    public EventQueue(final String subject, final String name) {
        this.subject = subject;
        this.name = name;
    }

    public String subject() {
        return subject;
    }

    public String name() {
        return name;
    }

    synchronized void add(final byte[] event) {
        events.addLast(event);
    }

    synchronized byte[] poll() {
        final byte[] e = events.pollFirst();
        if (null != e) {
            inflight++;
        }
        return e;
    }

    /** Puts an event that was taken but not confirmed back at the head. */
    synchronized void pushBack(final byte[] event) {
        inflight--;
        events.addFirst(event);
    }

    /** @return true when the queue holds events. */
    synchronized boolean hasEvents() {
        return !events.isEmpty();
    }

    /** An event taken by {@link #poll()} was confirmed by NATS. */
    void confirmed() {
        sent.incrementAndGet();
        final Runnable done;
        synchronized (this) {
            inflight--;
            done = drainedAction();
        }
        if (null != done) {
            done.run();
        }
    }

    /** An event taken by {@link #poll()} cannot ever be sent (e.g. over the server's max_payload). */
    void discarded(final byte[] event) {
        countDrop(event.length);
        final Runnable done;
        synchronized (this) {
            inflight--;
            done = drainedAction();
        }
        if (null != done) {
            done.run();
        }
    }

    void countDrop(final long bytes) {
        dropped.incrementAndGet();
        droppedBytes.addAndGet(bytes);
    }

    /**
     * No more events will come; {@code whenDrained} runs once every queued event is confirmed or discarded (at
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
        if (ended && events.isEmpty() && 0 == inflight && null != onDrained) {
            final Runnable r = onDrained;
            onDrained = null;
            return r;
        }
        return null;
    }

    /** @return events NATS confirmed. */
    public long sent() {
        return sent.get();
    }

    /** @return events dropped (buffer full, or too large for the server). */
    public long dropped() {
        return dropped.get();
    }

    /** @return bytes of dropped events. */
    public long droppedBytes() {
        return droppedBytes.get();
    }

    /** @return events waiting or in flight. */
    public synchronized int pending() {
        return events.size() + inflight;
    }
}
