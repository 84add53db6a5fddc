package dev.natslog.core.fifo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reads many FIFOs on a few threads: each FIFO is opened non-blocking and registered on a Netty epoll event
 * loop; when it is readable, the loop has the stream's {@link Consumer} take up to 64 KiB at a time into the loop's
 * own direct buffer ({@code read(2)}, or a splice through the stream's journal), and hands each take to it, which
 * must consume it before returning.
 *
 * <p>Nothing on a loop thread waits for anything but the FIFO: consumers only decode and enqueue.
 *
 * <p><b>Allocation:</b> one read buffer per loop thread for the reader's life; nothing per read, and one scheduled task
 * per {@link #COALESCE_NANOS} for a FIFO of small writes.
 */
public final class FifoReader implements AutoCloseable {
    /** Receives what one FIFO delivers, on its loop thread. */
    public interface Consumer {
        /**
         * Takes the FIFO's next bytes into {@code into} (from index 0, at most its capacity; the writer index set to
         * what was taken). The default is {@code read(2)}; a consumer that must not hold bytes only in memory
         * splices them into a file first.
         *
         * @return bytes taken; 0 when the FIFO is empty for now; negative at end of file.
         */
        default int read(final FileDescriptor fifo, final ByteBuf into) throws IOException {
            return FifoReader.read(fifo, into);
        }

        /**
         * @param read the bytes just read; consume all of them; the buffer is reused after the call.
         */
        void onBytes(ByteBuf read);

        /**
         * The FIFO reached end of file (every writer closed it), failed, or was closed by {@link Handle#close()}.
         *
         * @param error null at end of file or on close; the failure otherwise.
         */
        void onEnd(Throwable error);
    }

    /** A registered FIFO. */
    public interface Handle {
        /** Stops reading and closes the FIFO; {@link Consumer#onEnd} follows on the loop thread. Idempotent. */
        void close();
    }

    /** Bytes per read: the size of a pipe's buffer. */
    public static final int READ_SIZE = 64 * 1024;
    /** Reads per readiness event before other FIFOs of the loop get their turn. */
    private static final int READS_PER_EVENT = 16;
    /**
     * A FIFO that gave less than this in one go (and is then empty) is fed by small writes — dockerd writes one
     * frame per line — and is read again after {@link #COALESCE_NANOS} instead of on its next write.
     */
    static final int COALESCE_BELOW = 16 * 1024;
    /**
     * How long a FIFO of small writes is left to fill: one read then takes what many writes left, rather than one
     * epoll wake-up, one read and one empty read per line. The kernel's pipe holds 64 KiB, so a writer only waits
     * here if it writes more than 64 MB/s — and such a writer's reads come out big, which puts the FIFO back on
     * epoll.
     */
    static final long COALESCE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * {@link #COALESCE_BELOW} and {@link #COALESCE_NANOS} for a FIFO whose pipe {@link NativeFifo#growPipe} grew to
     * 1 MiB: left to fill 10 ms, a writer would need 100 MB/s to fill it (one that writes more than 6.4 MB/s leaves
     * 64 KiB or more per read, which puts the FIFO back on epoll), and each wake-up of the reader, the publisher and
     * jnats' writer carries ten times the lines. At a steady 100,000 lines/s 4 ms rather than 1 ms cut the plugin's
     * CPU per line by 15-20 %; at 10,000 lines/s written one frame at a time, like dockerd, 10 ms rather than 4 ms
     * cut it by another 15 % (ThroughputBenchmark {@code RATE=…}, alternated runs). A line waits at most this long
     * before it is read.
     */
    static final int GROWN_COALESCE_BELOW = 64 * 1024;
    static final long GROWN_COALESCE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final MultiThreadIoEventLoopGroup group;
    private final FastThreadLocal<ByteBuf> readBuffer;

    /**
     * @param threads   event loop threads.
     * @param allocator gives each loop thread its read buffer.
     */
    public FifoReader(final int threads, final ByteBufAllocator allocator) {
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("fifo-reader", true),
            EpollIoHandler.newFactory());
        this.readBuffer = new FastThreadLocal<>() {
            @Override
            protected ByteBuf initialValue() {
                return allocator.directBuffer(READ_SIZE, READ_SIZE);
            }

            @Override
            protected void onRemoval(final ByteBuf value) {
                value.release();
            }
        };
    }

    /**
     * Opens a FIFO and starts reading it.
     *
     * @param fifo     the FIFO's path.
     * @param consumer receives its bytes and its end, on one loop thread.
     * @return the handle, once registered.
     * @throws IOException when the FIFO cannot be opened or registered.
     */
    public Handle open(final Path fifo, final Consumer consumer) throws IOException {
        final FileDescriptor fd = NativeFifo.openForReading(fifo);
        final IoEventLoop loop = group.next();
        final FifoHandle handle = new FifoHandle(fd, consumer, loop, NativeFifo.growPipe(fd));
        final CompletableFuture<IoRegistration> registered = new CompletableFuture<>();
        loop.register(handle).addListener(f -> {
            if (f.isSuccess()) {
                final IoRegistration registration = (IoRegistration) f.getNow();
                handle.registration = registration;
                registration.submit(EpollIoOps.EPOLLIN);
                registered.complete(registration);
            } else {
                registered.completeExceptionally(f.cause());
            }
        });
        try {
            registered.get(10, TimeUnit.SECONDS);
        } catch (final Exception e) {
            closeQuietly(fd);
            NativeFifo.pipeReleased(handle.grown);
            throw new IOException("cannot watch FIFO " + fifo + ": " + e.getMessage(), e);
        }
        return handle;
    }

    /**
     * {@code read(2)} into a buffer.
     *
     * @return bytes read (the writer index is set to it); 0 when the FIFO is empty for now; -1 at end of file.
     */
    public static int read(final FileDescriptor fifo, final ByteBuf into) throws IOException {
        into.clear();
        final int n;
        if (into.hasMemoryAddress()) {
            n = fifo.readAddress(into.memoryAddress(), 0, into.capacity());
        } else {
            final ByteBuffer nio = into.internalNioBuffer(0, into.capacity());
            n = fifo.read(nio, nio.position(), nio.limit());
        }
        if (n > 0) {
            into.writerIndex(n);
        }
        return n;
    }

    /** Stops every loop (each open FIFO is closed and its consumer told). */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void closeQuietly(final FileDescriptor fd) {
        try {
            fd.close();
        } catch (final IOException ignored) {
            // closing a descriptor we own: nothing to do about a failure
        }
    }

    private final class FifoHandle implements EpollIoHandle, Handle {
        private final FileDescriptor fd;
        private final Consumer consumer;
        private final IoEventLoop loop;
        /** Bytes {@link NativeFifo#growPipe} added to the pipe's buffer. */
        private final long grown;
        private IoRegistration registration;
        private boolean ended;
        /** EPOLLIN is on (it is from registration on). */
        private boolean armed = true;
        private boolean timerPending;
        /** When a read last brought bytes. */
        private long lastBytesNanos = Long.MIN_VALUE / 2;
        private final int coalesceBelow;
        private final long coalesceNanos;

        FifoHandle(final FileDescriptor fd, final Consumer consumer, final IoEventLoop loop, final long grown) {
            this.fd = fd;
            this.consumer = consumer;
            this.loop = loop;
            this.grown = grown;
            this.coalesceBelow = grown > 0 ? GROWN_COALESCE_BELOW : COALESCE_BELOW;
            this.coalesceNanos = grown > 0 ? GROWN_COALESCE_NANOS : COALESCE_NANOS;
        }

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(final IoRegistration registration, final IoEvent event) {
            readCycle();
        }

        /**
         * Reads until the FIFO is empty (at most {@link #READS_PER_EVENT} reads; a read that gives less than it asked
         * for emptied it), then picks how to wait: a FIFO fed by many small writes is read again after
         * {@link #COALESCE_NANOS} ({@link #GROWN_COALESCE_NANOS} if its pipe was grown) with epoll off, so one read
         * takes what the writes of that moment left; an idle, a quiet (no bytes for two of those windows before
         * these) or a heavy FIFO waits on epoll. A quiet FIFO costs one wake-up and one read per write rather than
         * three reads and a timer; at 10,000 lines/s spread over 1000 containers, one frame per write, this and the
         * publisher's gathering cut the plugin's CPU per line by about 40 % (ThroughputBenchmark {@code ONLY=1000
         * CHUNK=1 RATE=10000}).
         */
        private void readCycle() {
            timerPending = false;
            if (ended) {
                return;
            }
            final ByteBuf buf = readBuffer.get();
            long got = 0;
            boolean drained = false;
            try {
                for (int i = 0; i < READS_PER_EVENT && !ended; i++) {
                    buf.clear();
                    final int room = buf.writableBytes();
                    final int n = consumer.read(fd, buf);
                    if (n > 0) {
                        got += n;
                        consumer.onBytes(buf);
                        if (n < room) {
                            drained = true; // a pipe gives less than asked only when it had no more: no EAGAIN read
                            break;
                        }
                    } else if (n == 0) {
                        drained = true; // EAGAIN: empty for now
                        break;
                    } else {
                        end(null); // EOF: every writer has closed
                        return;
                    }
                }
                if (ended) {
                    return;
                }
                final long previousBytes = lastBytesNanos;
                if (got > 0) {
                    lastBytesNanos = System.nanoTime();
                }
                // read on a timer, a busy FIFO stays busy: its reads come one window apart
                if (drained && got > 0 && got < coalesceBelow && lastBytesNanos - previousBytes < 2 * coalesceNanos) {
                    pollSoon();
                } else {
                    // idle: wait for the next write; quiet (bytes after a while): one wake-up per write is cheaper
                    // than a timer and its reads; heavy (or more to read): epoll calls at once
                    arm();
                }
            } catch (final IOException e) {
                end(e);
            } catch (final RuntimeException e) {
                end(e);
            }
        }

        private void pollSoon() {
            if (armed) {
                registration.submit(EpollIoOps.valueOf(0)); // still told of a hang-up: epoll always reports EPOLLHUP
                armed = false;
            }
            if (!timerPending) {
                timerPending = true;
                loop.schedule(this::readCycle, coalesceNanos, TimeUnit.NANOSECONDS);
            }
        }

        private void arm() {
            if (!armed) {
                registration.submit(EpollIoOps.EPOLLIN);
                armed = true;
            }
        }

        @Override
        public void close() {
            if (loop.inEventLoop()) {
                end(null);
            } else {
                loop.execute(() -> end(null));
            }
        }

        private void end(final Throwable error) {
            if (ended) {
                return;
            }
            ended = true;
            if (null != registration) {
                registration.cancel();
            }
            closeQuietly(fd);
            NativeFifo.pipeReleased(grown);
            consumer.onEnd(error);
        }
    }
}
