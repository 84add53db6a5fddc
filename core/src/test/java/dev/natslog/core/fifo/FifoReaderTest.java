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
        volatile Throwable error;

        @Override
        public void onBytes(final ByteBuf read) {
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

    /** A reader kept off the CPU does not block dockerd at 64 KiB: the FIFO takes a megabyte before it blocks. */
    @Test
    void aFifoOpenedForReadingTakesAMegabyteWithoutAReader() throws Exception {
        final Path path = Fifo.make(dir.resolve("big"));
        final io.netty.channel.unix.FileDescriptor fd = NativeFifo.openForReading(path);
        try (FileChannel w = FileChannel.open(path, java.nio.file.StandardOpenOption.WRITE)) {
            assertEquals(NativeFifo.PIPE_SIZE, NativeFifo.pipeSize(fd));
            final ByteBuffer b = ByteBuffer.allocate(NativeFifo.PIPE_SIZE);
            final Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    while (b.hasRemaining()) {
                        w.write(b); // blocks when the pipe is full: nothing reads it here
                    }
                } catch (final IOException e) {
                    // closed by the test
                }
            });
            writer.join(TimeUnit.SECONDS.toMillis(20));
            assertEquals(0, b.remaining(), "the whole megabyte went into the pipe with nobody reading");
        } finally {
            fd.close();
        }
    }

    @Test
    void aMissingFifoIsAClearError() {
        final IOException e = assertThrows(IOException.class, () -> reader.open(dir.resolve("nope"), new Collector()));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("no such file"), e.getMessage());
    }
}
