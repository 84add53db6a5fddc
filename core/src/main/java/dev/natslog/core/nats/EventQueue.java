package dev.natslog.core.nats;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The events of one stream waiting for its connection's publisher, in order, each with its resume offset (see
 * {@link dev.natslog.core.event.LogLine#resumeOffset()}). One producer (the stream's FIFO reader), one consumer
 * (the publisher), under the queue's own lock; a growable ring of arrays allocates nothing per event.
 *
 * <p>It may have a bound of its own ({@code nats-buffer-size}) on the bytes of its events waiting for NATS (queued
 * or in flight), besides the plugin-wide {@link BufferBudget}.
 *
 * <p>{@link #confirmedResume()} is the resume offset of the last event NATS confirmed: a replay of the stream
 * from there (after a crash) loses nothing.
 */
public final class EventQueue {
    private final String subject;
    private final String name;
    /** True while the queue is on its publisher's ready list (so it is put there once). */
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedBytes = new AtomicLong();
    private volatile long confirmedResume;
    /** This queue's own bound; null when only the plugin-wide one applies. */
    private final BufferBudget bound;
    private byte[][] events = new byte[16][];
    private long[] resumes = new long[16];
    private int head;
    private int size;
    private boolean ended;
    private int inflight;
    private Runnable onDrained;

    /**
     * @param subject       where the events go.
     * @param name          the container, for logs.
     * @param initialResume the stream offset a replay would start from before any event is confirmed.
     * @param bound         the most event bytes this queue may hold waiting for NATS; 0 for no bound of its own.
     */
    public EventQueue(final String subject, final String name, final long initialResume, final long bound) {
        this.subject = subject;
        this.name = name;
        this.confirmedResume = initialResume;
        this.bound = bound > 0 ? new BufferBudget(bound) : null;
    }

    /** @return this queue's own bound in bytes, or 0. */
    public long bound() {
        return null == bound ? 0 : bound.capacity();
    }

    /** @return false when the event would pass this queue's own bound (nothing reserved then). */
    boolean tryReserve(final long bytes) {
        return null == bound || bound.tryReserve(bytes);
    }

    /** Gives back what {@link #tryReserve} took, once the event is confirmed or given up. */
    void release(final long bytes) {
        if (null != bound) {
            bound.release(bytes);
        }
    }

    public String subject() {
        return subject;
    }

    public String name() {
        return name;
    }

    synchronized void add(final byte[] event, final long resume) {
        if (size == events.length) {
            grow();
        }
        final int i = (head + size) & (events.length - 1);
        events[i] = event;
        resumes[i] = resume;
        size++;
    }

    /** Takes the head event; its resume offset goes to {@code resumeOut[index]}. */
    synchronized byte[] poll(final long[] resumeOut, final int index) {
        if (0 == size) {
            return null;
        }
        final byte[] e = events[head];
        resumeOut[index] = resumes[head];
        events[head] = null;
        head = (head + 1) & (events.length - 1);
        size--;
        inflight++;
        return e;
    }

    /** Puts an event that was taken but not confirmed back at the head. */
    synchronized void pushBack(final byte[] event, final long resume) {
        if (size == events.length) {
            grow();
        }
        head = (head - 1) & (events.length - 1);
        events[head] = event;
        resumes[head] = resume;
        size++;
        inflight--;
    }

    private void grow() {
        final int n = events.length;
        final byte[][] e = new byte[n * 2][];
        final long[] r = new long[n * 2];
        for (int i = 0; i < size; i++) {
            e[i] = events[(head + i) & (n - 1)];
            r[i] = resumes[(head + i) & (n - 1)];
        }
        events = e;
        resumes = r;
        head = 0;
    }

    /** @return true when the queue holds events. */
    public synchronized boolean hasEvents() {
        return 0 != size;
    }

    /** An event taken by {@link #poll} was confirmed by NATS. */
    void confirmed(final long resume) {
        sent.incrementAndGet();
        settle(resume);
    }

    /** An event taken by {@link #poll} cannot ever be sent (e.g. over the server's max_payload). */
    void discarded(final byte[] event, final long resume) {
        dropped.incrementAndGet();
        droppedBytes.addAndGet(event.length);
        settle(resume);
    }

    /** An event taken by {@link #poll} is done with (sent or given up): runs the drained action when it was the last. */
    private void settle(final long resume) {
        final Runnable done;
        synchronized (this) {
            inflight--;
            advance(resume);
            done = drainedAction();
        }
        if (null != done) {
            done.run();
        }
    }

    /** An event was dropped before queueing (the buffer is full). */
    void countDrop(final long bytes, final long resume) {
        dropped.incrementAndGet();
        droppedBytes.addAndGet(bytes);
        synchronized (this) {
            if (0 == size && 0 == inflight) {
                advance(resume); // nothing before it waits: a replay need not start before it
            }
        }
    }

    private void advance(final long resume) {
        if (resume > confirmedResume) {
            confirmedResume = resume;
        }
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
        if (ended && 0 == size && 0 == inflight && null != onDrained) {
            final Runnable r = onDrained;
            onDrained = null;
            return r;
        }
        return null;
    }

    /** @return the resume offset of the last confirmed event. */
    public long confirmedResume() {
        return confirmedResume;
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
}
