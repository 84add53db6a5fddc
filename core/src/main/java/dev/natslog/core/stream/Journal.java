package dev.natslog.core.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What makes a {@code kill -9} lose nothing: every byte read from a FIFO is appended to the stream's journal
 * before it is decoded, and the stream offset from which a replay would rebuild every unconfirmed event (the
 * <i>resume offset</i>) is written beside it as NATS confirms events. A restarted plugin replays the journal from
 * there, then reads the FIFO on. Events confirmed after the last checkpoint may be sent twice; none is lost.
 *
 * <p>Writes go to the page cache (no fsync): they survive the process, not a power cut. The journal is emptied
 * whenever everything in it is confirmed and it has passed {@link #COMPACT_BYTES}; it never grows past
 * {@link #MAX_BYTES} (beyond that, while NATS stays away, the oldest unconfirmed bytes lose their crash
 * protection: they are still in memory and sent if the process lives).
 *
 * <p>Files: {@code <name>.journal} (the bytes; byte 0 is stream offset {@code base}) and {@code <name>.offsets}
 * (16 bytes: base, resume offset). Thread-safe.
 */
final class Journal implements AutoCloseable {
    static final long COMPACT_BYTES = 1024 * 1024;
    static final long MAX_BYTES = 64L * 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    private final Path dataFile;
    private final Path offsetsFile;
    private final FileChannel data;
    private final FileChannel offsets;
    private final ByteBuffer offsetsBuffer = ByteBuffer.allocate(16);
    private long base;
    private long end;
    private long resume;
    private boolean closed;

    private Journal(final Path dataFile, final Path offsetsFile) throws IOException {
        this.dataFile = dataFile;
        this.offsetsFile = offsetsFile;
        this.data = FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.offsets = FileChannel.open(offsetsFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        if (offsets.size() >= 16) {
            offsets.read(offsetsBuffer.clear(), 0);
            base = offsetsBuffer.getLong(0);
            resume = offsetsBuffer.getLong(8);
        }
        end = base + data.size();
        resume = Math.max(base, Math.min(resume, end));
    }

    /** Opens (or creates) the journal of a stream. */
    static Journal open(final Path dir, final String name) throws IOException {
        Files.createDirectories(dir);
        return new Journal(dir.resolve(name + ".journal"), dir.resolve(name + ".offsets"));
    }

    /** @return the stream offset a replay starts from. */
    synchronized long resumeOffset() {
        return resume;
    }

    /**
     * @return the journaled bytes from the resume offset on (empty for a new stream); the caller releases it.
     */
    synchronized ByteBuf replay() throws IOException {
        final int n = (int) (end - resume);
        final ByteBuf buf = Unpooled.buffer(n);
        final ByteBuffer nio = ByteBuffer.wrap(buf.array(), buf.arrayOffset(), n);
        long pos = resume - base;
        while (nio.hasRemaining()) {
            final int r = data.read(nio, pos);
            if (r < 0) {
                break;
            }
            pos += r;
        }
        buf.writerIndex(nio.position() - buf.arrayOffset());
        return buf;
    }

    /** Appends a read (its readable bytes; the buffer's indexes are not moved). */
    synchronized void append(final ByteBuf read) throws IOException {
        if (closed) {
            return;
        }
        if (end - base + read.readableBytes() > MAX_BYTES) {
            LOG.warn("journal {} passed {} bytes while NATS confirms nothing: older unconfirmed lines lose their "
                + "crash protection", dataFile.getFileName(), MAX_BYTES);
            data.truncate(0);
            base = end;
            resume = end;
            writeOffsets();
        }
        final ByteBuffer nio = read.nioBuffer(read.readerIndex(), read.readableBytes());
        long pos = end - base;
        while (nio.hasRemaining()) {
            pos += data.write(nio, pos);
        }
        end += read.readableBytes();
    }

    /**
     * Records a new resume offset, and empties the journal when all of it is confirmed and it is large.
     *
     * @param confirmedResume the resume offset of the last confirmed event.
     */
    synchronized void checkpoint(final long confirmedResume) throws IOException {
        if (closed || confirmedResume <= resume) {
            return;
        }
        resume = Math.min(confirmedResume, end);
        if (resume == end && end - base >= COMPACT_BYTES) {
            // truncate first: a crash between the two steps then replays nothing, never old bytes
            data.truncate(0);
            base = end;
        }
        writeOffsets();
    }

    private void writeOffsets() throws IOException {
        offsetsBuffer.clear();
        offsetsBuffer.putLong(0, base).putLong(8, resume);
        offsets.write(offsetsBuffer, 0);
    }

    /** Closes the files and keeps them (for the next start). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                data.close();
                offsets.close();
            } catch (final IOException e) {
                LOG.warn("cannot close journal {}: {}", dataFile, e.toString());
            }
        }
    }

    /** Closes and removes the files: the stream is over and everything was sent. */
    synchronized void delete() {
        close();
        try {
            Files.deleteIfExists(dataFile);
            Files.deleteIfExists(offsetsFile);
        } catch (final IOException e) {
            LOG.warn("cannot remove journal {}: {}", dataFile, e.toString());
        }
    }
}
