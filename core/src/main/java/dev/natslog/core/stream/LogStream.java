package dev.natslog.core.stream;

import dev.natslog.core.config.StreamSettings;
import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.event.LineAssembler;
import dev.natslog.core.event.LogLine;
import dev.natslog.core.event.LogStreamCodec;
import dev.natslog.core.fifo.FifoReader;
import dev.natslog.core.nats.EventQueue;
import dev.natslog.core.nats.RecordChunks;
import dev.natslog.core.nats.SharedConnection;
import io.netty.buffer.ByteBuf;
import io.netty.channel.unix.FileDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * One container's stream: its FIFO's bytes go through the {@link LogStreamCodec} and every line into its
 * {@link EventQueue} on the shared connection (whose publisher encodes it). Runs on the FIFO's reader thread;
 * never waits for NATS.
 */
final class LogStream implements FifoReader.Consumer, LineAssembler.Sink {
    private static final Logger LOG = LoggerFactory.getLogger(LogStream.class);

    final String file;
    final ContainerInfo info;
    final StreamSettings settings;
    final SharedConnection connection;
    final EventQueue queue;
    final LogStreamCodec codec;
    final Journal journal;
    private final EndListener endListener;
    private boolean journalFailed;
    volatile FifoReader.Handle handle;
    volatile boolean stopRequested;
    /** The StopLogging grace deadline's task, cancelled when the stream ends (so it does not keep the stream). */
    volatile java.util.concurrent.ScheduledFuture<?> stopDeadline;
    /** Set when the stream has ended and is being removed. */
    volatile boolean finished;
    volatile long reportedDrops;
    volatile long reportedSkipped;
    volatile long reportedHandlerFailures;

    /** Told when the FIFO has ended. */
    interface EndListener {
        void ended(LogStream stream, Throwable error);
    }

    LogStream(final String file, final ContainerInfo info, final StreamSettings settings,
              final SharedConnection connection, final LogStreamCodec.Factory codecs, final RecordChunks chunks,
              final Journal journal, final EndListener endListener) {
        this.file = file;
        this.info = info;
        this.settings = settings;
        this.connection = connection;
        this.journal = journal;
        this.queue = new EventQueue(settings.subject(), info.name().isEmpty() ? info.id() : info.name(),
            journal.resumeOffset(), settings.bufferSize(), settings.eventPrefix(), chunks,
            this::checkpoint);
        this.codec = codecs.createForLines(this);
        this.endListener = endListener;
    }

    /** Crash recovery: decodes what the journal holds past its resume offset, before the FIFO is read on. */
    long replay() throws IOException {
        codec.decoder().position(journal.resumeOffset());
        final long[] n = new long[1];
        journal.replay(bytes -> {
            n[0] += bytes.readableBytes();
            codec.decode(bytes);
            connection.commit(queue);
        });
        return n[0];
    }

    @Override
    public int read(final FileDescriptor fifo, final ByteBuf into) throws IOException {
        return journal.transfer(fifo, into); // into the journal first: what is taken is never only in memory
    }

    @Override
    public void onBytes(final ByteBuf read) {
        codec.decode(read);
        connection.commit(queue); // the read's lines to the publisher at once: one lock of the queue per read
    }

    /** Records how far NATS has confirmed, so a replay after a crash starts there. */
    void checkpoint() {
        checkpoint(queue.confirmedResume());
    }

    /** Records a resume offset (the publisher calls this after each flush that confirmed events of this stream). */
    private void checkpoint(final long confirmedResume) {
        try {
            journal.checkpoint(confirmedResume);
        } catch (final IOException e) {
            journalFailure(e);
        }
    }

    private void journalFailure(final IOException e) {
        if (!journalFailed) {
            journalFailed = true;
            LOG.warn("container {}: cannot write its journal ({}): lines in flight are not protected against a crash",
                name(), e.toString());
        }
    }

    @Override
    public void onLine(final LogLine line) {
        connection.stage(queue, line); // copied into the queue, seen at the read's commit; encoded by the publisher
    }

    @Override
    public void onEnd(final Throwable error) {
        try {
            codec.finish();
            connection.commit(queue);
        } finally {
            codec.close();
        }
        endListener.ended(this, error);
    }

    String name() {
        return queue.name();
    }
}
