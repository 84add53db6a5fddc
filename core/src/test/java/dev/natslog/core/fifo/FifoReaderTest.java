package dev.natslog.core.fifo;

import dev.natslog.core.testing.Fifo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FifoReaderTest {
    @TempDir
    Path dir;

    private final FifoReader reader = new FifoReader(1, UnpooledByteBufAllocator.DEFAULT);

    @AfterEach
    void stop() {
        reader.close();
    }

    /** Collects one FIFO's bytes and notes the thread and the end. */
    static final class Collector implements FifoReader.Consumer {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CountDownLatch ended = new CountDownLatch(1);
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        /** read(2) calls, also those that found the FIFO empty. */
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        volatile Throwable error;

        @Override
        public int read(final io.netty.channel.unix.FileDescriptor fifo, final ByteBuf into) throws IOException {
            calls.incrementAndGet();
            return FifoReader.Consumer.super.read(fifo, into);
        }

        @Override
        public void onBytes(final ByteBuf read) {
            reads.incrementAndGet();
            threads.add(Thread.currentThread().getName());
            final byte[] b = new byte[read.readableBytes()];
            read.readBytes(b);
            synchronized (bytes) {
                bytes.writeBytes(b);
            }
        }

        @Override
        public void onEnd(final Throwable e) {
            error = e;
            ended.countDown();
        }
    }

    @Test
    void readsEverythingUntilTheWriterClosesThenEnds() throws Exception {
        final Path path = Fifo.make(dir.resolve("f"));
        final byte[] data = new byte[10 * 1024 * 1024];
        new Random(1).nextBytes(data);
        try (FileChannel writer = Fifo.openWriter(path)) {
            final Collector c = new Collector();
            reader.open(path, c);
            final Random r = new Random(2);
            for (int pos = 0; pos < data.length; ) {
                final int n = Math.min(data.length - pos, 1 + r.nextInt(100_000));
                final ByteBuffer chunk = ByteBuffer.wrap(data, pos, n);
                while (chunk.hasRemaining()) {
                    writer.write(chunk); // blocks while the pipe is full: the reader must drain it
                }
                pos += n;
            }
            writer.close();
            assertTrue(c.ended.await(20, TimeUnit.SECONDS), "end of file seen");
            assertNull(c.error);
            assertArrayEquals(data, c.bytes.toByteArray());
        }
    }

    @Test
    void oneThreadServesManyFifos() throws Exception {
        final List<Collector> collectors = new ArrayList<>();
        final List<FileChannel> writers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            final Path p = Fifo.make(dir.resolve("f" + i));
            writers.add(Fifo.openWriter(p));
            final Collector c = new Collector();
            collectors.add(c);
            reader.open(p, c);
        }
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < writers.size(); i++) {
                writers.get(i).write(ByteBuffer.wrap(("fifo " + i + " round " + round + "\n").getBytes()));
            }
        }
        for (final FileChannel w : writers) {
            w.close();
        }
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < collectors.size(); i++) {
            final Collector c = collectors.get(i);
            assertTrue(c.ended.await(10, TimeUnit.SECONDS));
            final StringBuilder expected = new StringBuilder();
            for (int round = 0; round < 20; round++) {
                expected.append("fifo ").append(i).append(" round ").append(round).append('\n');
            }
            assertEquals(expected.toString(), c.bytes.toString());
            threads.addAll(c.threads);
        }
        assertEquals(1, threads.size(), "all FIFOs on one thread: " + threads);
    }

    @Test
    void closeStopsReadingAndTellsTheConsumer() throws Exception {
        final Path path = Fifo.make(dir.resolve("c"));
        try (FileChannel writer = Fifo.openWriter(path)) {
            final Collector c = new Collector();
            final FifoReader.Handle h = reader.open(path, c);
            writer.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            h.close();
            h.close();
            assertTrue(c.ended.await(5, TimeUnit.SECONDS));
            assertNull(c.error);
        }
    }

    /** A reader kept off the CPU does not block dockerd at 64 KiB: a FIFO being read takes a megabyte. */
    @Test
    void aFifoBeingReadTakesAMegabyteBeforeItsWriterBlocks() throws Exception {
        final Path path = Fifo.make(dir.resolve("big"));
        final Collector c = new Collector();
        final long grownBefore = NativeFifo.grownBytes();
        try (FileChannel w = Fifo.openWriter(path)) {
            final FifoReader.Handle h = reader.open(path, c);
            assertEquals(NativeFifo.PIPE_SIZE, NativeFifo.pipeSize(((io.netty.channel.epoll.EpollIoHandle) h).fd()));
            assertEquals(grownBefore + NativeFifo.PIPE_SIZE - 65536, NativeFifo.grownBytes());
        }
        assertTrue(c.ended.await(10, TimeUnit.SECONDS));
        assertEquals(grownBefore, NativeFifo.grownBytes(), "given back when the FIFO is closed");
    }

    /**
     * dockerd writes one frame per line: a grown FIFO fed by small writes is left {@link
     * FifoReader#GROWN_COALESCE_NANOS} to fill, so one read takes what several writes left (each read wakes the
     * publisher and jnats' writer in turn), and still every byte arrives.
     */
    @Test
    void smallWritesToAGrownFifoAreTakenSeveralAtATime() throws Exception {
        final Path path = Fifo.make(dir.resolve("trickle"));
        final Collector c = new Collector();
        final int writes = 200;
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try (FileChannel w = Fifo.openWriter(path)) {
            final FifoReader.Handle h = reader.open(path, c);
            assertEquals(NativeFifo.PIPE_SIZE, NativeFifo.pipeSize(((io.netty.channel.epoll.EpollIoHandle) h).fd()));
            for (int i = 0; i < writes; i++) {
                final byte[] frame = ("frame " + i + " " + "x".repeat(90) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                sent.writeBytes(frame);
                w.write(ByteBuffer.wrap(frame));
                Thread.sleep(1);
            }
        }
        assertTrue(c.ended.await(10, TimeUnit.SECONDS));
        assertArrayEquals(sent.toByteArray(), c.bytes.toByteArray());
        // a read per write would be ~200 (1 ms apart); a read per 10 ms ~20-25
        assertTrue(c.reads.get() <= writes / 2, c.reads.get() + " reads for " + writes + " writes");
    }

    /**
     * A quiet FIFO — a line now and then, like most containers' — is read once per write: a read that gives less
     * than it asked for emptied the pipe (no second read to find it empty), and bytes after a quiet while are not
     * followed by a timer's read; epoll stays on. Every byte still arrives.
     */
    @Test
    void aQuietFifoIsReadOncePerWrite() throws Exception {
        final Path path = Fifo.make(dir.resolve("quiet"));
        final Collector c = new Collector();
        final int writes = 10;
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try (FileChannel w = Fifo.openWriter(path)) {
            reader.open(path, c);
            for (int i = 0; i < writes; i++) {
                // three times the longest coalescing window apart: quiet by any measure
                Thread.sleep(3 * TimeUnit.NANOSECONDS.toMillis(FifoReader.GROWN_COALESCE_NANOS));
                final byte[] frame = ("line " + i + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                sent.writeBytes(frame);
                w.write(ByteBuffer.wrap(frame));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (c.reads.get() < writes && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(writes, c.reads.get(), "one read with bytes per write");
            // before: a read per write, one more finding the pipe empty, and one on a timer: ~30
            assertTrue(c.calls.get() <= writes + writes / 5, c.calls.get() + " read(2) calls for " + writes + " quiet writes");
        }
        assertTrue(c.ended.await(10, TimeUnit.SECONDS));
        assertArrayEquals(sent.toByteArray(), c.bytes.toByteArray());
    }

    /** Linux counts pipe buffers per user: the growth is bounded, the FIFOs past it keep the kernel's size. */
    @Test
    void fifosAreGrownWithinABudgetAndTheRestKeepTheKernelsSize() throws Exception {
        final List<io.netty.channel.unix.FileDescriptor> fds = new ArrayList<>();
        final List<Long> grown = new ArrayList<>();
        final List<FileChannel> writers = new ArrayList<>();
        try {
            for (int i = 0; i < 24; i++) {
                final Path path = Fifo.make(dir.resolve("b" + i));
                final io.netty.channel.unix.FileDescriptor fd = NativeFifo.openForReading(path);
                fds.add(fd);
                writers.add(FileChannel.open(path, java.nio.file.StandardOpenOption.WRITE));
                grown.add(NativeFifo.growPipe(fd));
            }
            assertTrue(NativeFifo.grownBytes() <= NativeFifo.MAX_GROWN_BYTES, "bounded: " + NativeFifo.grownBytes());
            assertEquals(NativeFifo.PIPE_SIZE, NativeFifo.pipeSize(fds.get(0)), "the first FIFOs are grown");
            assertEquals(65536, NativeFifo.pipeSize(fds.get(23)), "past the budget a FIFO keeps 64 KiB");
            assertEquals(0L, grown.get(23));
        } finally {
            for (int i = 0; i < fds.size(); i++) {
                writers.get(i).close();
                fds.get(i).close();
                NativeFifo.pipeReleased(grown.get(i));
            }
        }
    }

    @Test
    void aMissingFifoIsAClearError() {
        final IOException e = assertThrows(IOException.class, () -> reader.open(dir.resolve("nope"), new Collector()));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("no such file"), e.getMessage());
    }
}
