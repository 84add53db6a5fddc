package dev.natslog.core.stream;

import dev.natslog.core.config.StreamSettings;
import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.event.LogStreamCodec;
import dev.natslog.core.fifo.FifoReader;
import dev.natslog.core.nats.EventQueue;
import dev.natslog.core.nats.SharedConnection;
import io.netty.buffer.ByteBuf;

/**
 * One container's stream: its FIFO's bytes go through the {@link LogStreamCodec} and every event into its
 * {@link EventQueue} on the shared connection. Runs on the FIFO's reader thread; never waits for NATS.
 */
final class LogStream implements FifoReader.Consumer, LogStreamCodec.EventSink {
    final String file;
    final ContainerInfo info;
    final StreamSettings settings;
    final SharedConnection connection;
    final EventQueue queue;
    final LogStreamCodec codec;
    private final EndListener endListener;
    volatile FifoReader.Handle handle;
    volatile boolean stopRequested;
    volatile long reportedDrops;
    volatile long reportedSkipped;

    /** Told when the FIFO has ended. */
    interface EndListener {
        void ended(LogStream stream, Throwable error);
    }

    LogStream(final String file, final ContainerInfo info, final StreamSettings settings,
              final SharedConnection connection, final LogStreamCodec.Factory codecs, final EndListener endListener) {
        this.file = file;
        this.info = info;
        this.settings = settings;
        this.connection = connection;
        this.queue = new EventQueue(settings.subject(), info.name().isEmpty() ? info.id() : info.name());
        this.codec = codecs.create(settings.eventPrefix(), this);
        this.endListener = endListener;
    }

    @Override
    public void onBytes(final ByteBuf read) {
        codec.decode(read);
    }

    @Override
    public void onEvent(final byte[] event) {
        connection.offer(queue, event);
    }

    @Override
    public void onEnd(final Throwable error) {
        try {
            codec.finish();
        } finally {
            codec.close();
        }
        endListener.ended(this, error);
    }

    String name() {
        return queue.name();
    }
}
