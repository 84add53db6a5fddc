package dev.natslog.core.stream;

import dev.natslog.core.fifo.FifoReader;
import dev.natslog.core.fifo.NativeFifo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.unix.FileDescriptor;
import io.netty.buffer.PooledByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What makes a {@code kill -9} lose nothing: every byte taken from a FIFO is in the stream's journal before it is
 * decoded, and the stream offset from which a replay would rebuild every unconfirmed event (the
 * <i>resume offset</i>) is written beside it as NATS confirms events. A restarted plugin replays the journal from
 * there, then reads the FIFO on. Events confirmed after the last checkpoint may be sent twice; none is lost.
 *
 * <p>{@link #transfer} moves the FIFO's bytes into the journal with {@code splice(2)} and then reads them back
 * for the decoder: the kernel takes from the pipe exactly what it put in the file, so there is no instant at which
 * a byte is out of the FIFO but not yet in the journal (a {@code read(2)} followed by a write leaves one, and a
 * {@code kill -9} landing there lost the bytes of that read). Where the file system cannot be spliced into, it
 * falls back to that read-then-append, and says so once.
 *
 * <p>Writes go to the page cache (no fsync): they survive the process, not a power cut. Once
 * {@link #COMPACT_BYTES} of the journal are confirmed, its unconfirmed tail (small: what is in flight) moves to a
 * new segment and the old one is deleted, so a busy stream's journal stays small — but a segment lives at least
 * {@link #COMPACT_INTERVAL_NANOS} unless {@link #COMPACT_MAX_BYTES} are confirmed: a stream of 10 MB/s compacts
 * once a second rather than ten times (each compaction creates, copies to and deletes a file, ~0.5 ms, on the
 * publisher's thread, or on the reader's when lines dropped while nothing waited moved the resume offset; 2.5 % of
 * the plugin's CPU at 200,000 lines/s when it ran every MiB), and its journal holds at most about a second of its
 * bytes or 16 MiB. While NATS confirms nothing it
 * never grows past {@link #MAX_BYTES}: beyond that the oldest unconfirmed bytes lose their crash protection (they
 * are still in memory and sent if the process lives).
 *
 * <p>Files: {@code <name>.<base>.journal} (the bytes; its byte 0 is stream offset {@code base}) and
 * {@code <name>.offsets} (16 bytes: base, resume offset). A new segment is complete before the offsets name it, and
 * the old one is deleted only after, so a crash at any step replays the right bytes. Thread-safe.
 */
final class Journal implements AutoCloseable {
    static final long COMPACT_BYTES = 1024 * 1024;
    /** A segment younger than this is compacted only once {@link #COMPACT_MAX_BYTES} of it are confirmed. */
    static final long COMPACT_INTERVAL_NANOS = 1_000_000_000L;
    static final long COMPACT_MAX_BYTES = 16L * 1024 * 1024;
    static final long MAX_BYTES = 64L * 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    private final Path dir;
    private final String name;
    private final Path offsetsFile;
    /** Big-endian, as the offsets file has always been written. */
    private static final ValueLayout.OfLong OFFSET = ValueLayout.JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN);
    /** Unmaps {@link #offsets} at {@link #close}. */
    private final Arena offsetsArena = Arena.ofShared();
    /** The offsets file, mapped: recording a checkpoint is two stores, no system call. */
    private final MemorySegment offsets;
    private FileChannel data;
    /** The current segment, open for {@code splice(2)}; -1 once splicing failed. */
    private int spliceTarget = -1;
    private NativeFifo.Splicer splicer;
    private boolean appendFailed;
    private long base;
    private long end;
    private long resume;
    private boolean closed;
    private final long compactIntervalNanos;
    /** {@link System#nanoTime()} when the current segment was started (or opened). */
    private long segmentStarted = System.nanoTime();

    private Journal(final Path dir, final String name, final long compactIntervalNanos) throws IOException {
        this.dir = dir;
        this.name = name;
        this.compactIntervalNanos = compactIntervalNanos;
        this.offsetsFile = dir.resolve(name + ".offsets");
        try (FileChannel f = FileChannel.open(offsetsFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
            final boolean written = f.size() >= 16;
            this.offsets = f.map(FileChannel.MapMode.READ_WRITE, 0, 16, offsetsArena); // a new file grows to 16
            if (written) {
                base = offsets.get(OFFSET, 0);
                resume = offsets.get(OFFSET, 8);
            }
        } catch (final IOException | RuntimeException e) {
            offsetsArena.close();
            throw e;
        }
        try {
            this.data = openSegment(base);
        } catch (final IOException | RuntimeException e) {
            offsetsArena.close();
            throw e;
        }
        end = base + data.size();
        resume = Math.max(base, Math.min(resume, end));
        deleteSegmentsOtherThan(base);
    }

    /** Opens (or creates) the journal of a stream. */
    static Journal open(final Path dir, final String name) throws IOException {
        return open(dir, name, COMPACT_INTERVAL_NANOS);
    }

    /** As {@link #open(Path, String)}, with another shortest segment life (0: compact at every MiB confirmed). */
    static Journal open(final Path dir, final String name, final long compactIntervalNanos) throws IOException {
        Files.createDirectories(dir);
        return new Journal(dir, name, compactIntervalNanos);
    }

    private Path segment(final long segmentBase) {
        return dir.resolve(name + "." + segmentBase + ".journal");
    }

    private FileChannel openSegment(final long segmentBase) throws IOException {
        return FileChannel.open(segment(segmentBase), StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    }

    private void deleteSegmentsOtherThan(final long keep) throws IOException {
        try (var files = Files.newDirectoryStream(dir, name + ".*.journal")) {
            for (final Path f : files) {
                if (!f.equals(segment(keep))) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** @return the stream offset a replay starts from. */
    synchronized long resumeOffset() {
        return resume;
    }

    /**
     * Hands the journaled bytes from the resume offset on to {@code sink}, in reads of at most
     * {@link FifoReader#READ_SIZE} (nothing for a new stream): a journal of any size replays in bounded memory.
     *
     * @param sink gets each read; must consume it before returning (the buffer is reused).
     */
    synchronized void replay(final java.util.function.Consumer<ByteBuf> sink) throws IOException {
        final ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(FifoReader.READ_SIZE, FifoReader.READ_SIZE);
        try {
            long pos = resume;
            while (pos < end) {
                final int n = (int) Math.min(FifoReader.READ_SIZE, end - pos);
                buf.clear();
                final ByteBuffer nio = buf.internalNioBuffer(0, n);
                int got = 0;
                while (nio.hasRemaining()) {
                    final int r = data.read(nio, pos - base + got);
                    if (r < 0) {
                        throw new IOException("journal " + name + " is shorter than its offsets say");
                    }
                    got += r;
                }
                buf.writerIndex(n);
                sink.accept(buf);
                pos += n;
            }
        } finally {
            buf.release();
        }
    }

    /**
     * Takes the FIFO's next bytes: spliced into the journal, then read from it into {@code into}.
     *
     * @return as {@link FifoReader.Consumer#read}: bytes taken, 0 when the FIFO is empty, negative at its end.
     */
    synchronized int transfer(final FileDescriptor fifo, final ByteBuf into) throws IOException {
        if (closed) {
            return FifoReader.read(fifo, into);
        }
        if (null == splicer) {
            splicer = new NativeFifo.Splicer();
            openSpliceTarget(base);
        }
        if (spliceTarget < 0) {
            final int n = FifoReader.read(fifo, into);
            if (n > 0) {
                try {
                    append(into);
                } catch (final IOException e) {
                    if (!appendFailed) {
                        appendFailed = true;
                        LOG.warn("journal {}: cannot write ({}): lines in flight are not protected against a crash",
                            name, e.toString());
                    }
                }
            }
            return n;
        }
        if (end - base + into.capacity() > MAX_BYTES) {
            overflow();
        }
        final long n;
        try {
            n = splicer.splice(fifo.intValue(), spliceTarget, end - base, into.capacity());
        } catch (final IOException e) {
            LOG.warn("journal {}: cannot splice into {} ({}); reading and appending instead", name, dir, e.getMessage());
            closeSpliceTarget();
            return transfer(fifo, into);
        }
        into.clear();
        if (n == NativeFifo.Splicer.AGAIN) {
            return 0;
        }
        if (n == 0) {
            return -1;
        }
        if (into.hasMemoryAddress()) { // the reader's direct buffer: one pread(2), no access-time update
            splicer.read(spliceTarget, into.memoryAddress(), n, end - base);
        } else {
            final ByteBuffer nio = into.internalNioBuffer(0, (int) n);
            long pos = end - base;
            while (nio.hasRemaining()) {
                final int r = data.read(nio, pos);
                if (r < 0) {
                    throw new IOException("journal " + name + " is shorter than what was spliced into it");
                }
                pos += r;
            }
        }
        into.writerIndex((int) n);
        end += n;
        return (int) n;
    }

    private void openSpliceTarget(final long segmentBase) {
        try {
            spliceTarget = NativeFifo.openForSplicing(segment(segmentBase));
        } catch (final IOException e) {
            LOG.warn("journal {}: {}; reading and appending instead", name, e.getMessage());
            spliceTarget = -1;
        }
    }

    private void closeSpliceTarget() {
        if (spliceTarget >= 0) {
            NativeFifo.close(spliceTarget);
            spliceTarget = -1;
        }
    }

    private void overflow() throws IOException {
        LOG.warn("journal {} holds {} unconfirmed bytes while NATS confirms nothing: older unconfirmed lines "
            + "lose their crash protection", name, end - base);
        moveTo(end); // an empty segment from here on
    }

    /** Appends a read (its readable bytes; the buffer's indexes are not moved). */
    synchronized void append(final ByteBuf read) throws IOException {
        if (closed) {
            return;
        }
        if (end - base + read.readableBytes() > MAX_BYTES) {
            overflow();
        }
        final ByteBuffer nio = read.nioBuffer(read.readerIndex(), read.readableBytes());
        long pos = end - base;
        while (nio.hasRemaining()) {
            pos += data.write(nio, pos);
        }
        end += read.readableBytes();
    }

    /**
     * Records a new resume offset; once a good part of the segment is confirmed, moves the unconfirmed tail to a
     * new segment.
     *
     * @param confirmedResume the resume offset of the last confirmed event.
     */
    synchronized void checkpoint(final long confirmedResume) throws IOException {
        if (closed || confirmedResume <= resume) {
            return;
        }
        resume = Math.min(confirmedResume, end);
        final long confirmed = resume - base;
        if (confirmed >= COMPACT_BYTES && confirmed >= end - resume
            && (confirmed >= COMPACT_MAX_BYTES || System.nanoTime() - segmentStarted >= compactIntervalNanos)) {
            moveTo(resume); // copies at most as much as it frees: each byte is copied O(1) times on average
        } else {
            writeOffsets();
        }
    }

    /**
     * Starts a new segment at stream offset {@code newBase} holding the bytes from there to the end (copied file
     * to file by the kernel, not through the heap).
     */
    private void moveTo(final long newBase) throws IOException {
        final long oldBase = base;
        final FileChannel next = openSegment(newBase);
        next.truncate(0);
        long pos = Math.max(newBase, base) - base;
        final long stop = end - base;
        while (pos < stop) {
            final long n = data.transferTo(pos, stop - pos, next);
            if (n <= 0) {
                throw new IOException("journal " + name + ": cannot copy its tail to a new segment");
            }
            pos += n;
        }
        data.close();
        data = next;
        if (spliceTarget >= 0) {
            closeSpliceTarget();
            openSpliceTarget(newBase);
        }
        base = newBase;
        resume = Math.max(resume, newBase);
        segmentStarted = System.nanoTime();
        writeOffsets(); // from here on a restart reads the new segment
        Files.deleteIfExists(segment(oldBase));
    }

    /**
     * Records base and resume offset in the mapped offsets file: the page cache has them at once, so they survive
     * the process (not the host: no msync, as no fsync before). A pwrite(2) of these 16 bytes after every flush of
     * every stream cost a file-time update and an ext4 journal handle each: with 1000 quiet containers, half of the
     * publisher's CPU. Each store is one aligned 8-byte write; base goes first, and a kill between the two leaves a
     * resume offset below the new base, which {@link #open} raises to the base: the bytes from there on.
     */
    private void writeOffsets() {
        offsets.set(OFFSET, 0, base);
        offsets.set(OFFSET, 8, resume);
    }

    /** Closes the files and keeps them (for the next start). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeSpliceTarget();
            try {
                data.close();
            } catch (final IOException e) {
                LOG.warn("cannot close journal {}: {}", name, e.toString());
            } finally {
                offsetsArena.close();
            }
        }
    }

    /** Closes and removes the files: the stream is over and everything was sent. */
    synchronized void delete() {
        close();
        try {
            deleteSegmentsOtherThan(Long.MIN_VALUE);
            Files.deleteIfExists(offsetsFile);
        } catch (final IOException e) {
            LOG.warn("cannot remove journal {}: {}", name, e.toString());
        }
    }
}
