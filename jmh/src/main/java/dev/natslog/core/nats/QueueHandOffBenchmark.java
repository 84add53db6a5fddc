package dev.natslog.core.nats;

import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LineAssembler;
import dev.natslog.core.event.LogStreamCodec;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.jmh.Baseline;
import dev.natslog.jmh.Lines;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * The plugin's per-line path with its hand-off between threads, on one thread: what {@code HotPathBenchmark}'s
 * {@code natsLogDriverPubBatch} leaves out. Per 64 KiB FIFO read:
 *
 * <ul>
 *   <li>{@code queued}: the reader's side as {@code SharedConnection.stage} and {@code commit} do it — each decoded
 *   line charged to the plugin-wide {@link BufferBudget} and staged as a record, the read's records handed to the
 *   stream's {@link EventQueue} at its end — then the
 *   publisher's side: every record taken by {@link EventQueue#pollInto}, encoded into the {@link PubBatch}, and
 *   the run settled as one flush confirms it ({@link EventQueue#confirmed}, budget released).</li>
 *   <li>{@code direct}: decoded lines encoded straight into the batch (no queue), as {@code natsLogDriverPubBatch}.
 *   </li>
 *   <li>{@code dropped}: the reader's side with the buffer full, every line decoded and dropped (a flood past the
 *   buffer); {@code decoded}: the lines decoded and nothing else, for what the dropping adds.</li>
 * </ul>
 * The difference is the hand-off's own cost per line, without the other thread (no lock contention, no cache-line
 * transfer: those show only end to end). In package {@code dev.natslog.core.nats} to reach the queue's
 * package-private methods, as the publisher does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Dio.netty.noUnsafe=false", "--sun-misc-unsafe-memory-access=allow",
    "-Dio.netty.leakDetection.level=disabled"})
public class QueueHandOffBenchmark {
    @Param({"100", "1024"})
    public int lineSize;

    @Param({"ASCII", "UTF8"})
    public Lines.Kind kind;

    private byte[] fifo;
    private ByteBuf read;
    private Blackhole sink;
    private EventQueue queue;
    private BufferBudget budget;
    private PubBatch batch;
    private JsonEventEncoder directEncoder;
    private LogStreamCodec reader;
    private LogStreamCodec direct;
    private LogStreamCodec dropping;
    private LogStreamCodec decodeOnly;
    private BufferBudget full;
    private final long[] resume = new long[1];
    private final int[] reserved = new int[1];

    @Setup(Level.Trial)
    public void setUp(final Blackhole bh) {
        sink = bh;
        fifo = Lines.fifoRead(lineSize, kind);
        read = PooledByteBufAllocator.DEFAULT.directBuffer(fifo.length);
        final byte[] prefix = JsonEventEncoder.renderPrefix(Baseline.metadata());
        budget = new BufferBudget(BufferBudget.DEFAULT_CAPACITY);
        queue = new EventQueue("docker.logs.web", "web", 0, 0, prefix,
            new RecordChunks(PooledByteBufAllocator.DEFAULT, RecordChunks.DEFAULT_SPARES), resume -> { });
        batch = new PubBatch(io.nats.client.Options.DEFAULT_BUFFER_SIZE, 1);
        final LogStreamCodec.Factory codecs = new LogStreamCodec.Factory(PooledByteBufAllocator.DEFAULT,
            LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, LineAssembler.DEFAULT_MAX_LINE_LENGTH);
        reader = codecs.createForLines(line -> { // SharedConnection.stage
            if (!queue.stageOrDrop(line, budget)) {
                throw new IllegalStateException("the budget is too small for one read");
            }
        });
        full = new BufferBudget(1);
        full.tryReserve(1);
        dropping = codecs.createForLines(line -> { // SharedConnection.stage with the buffer full
            if (queue.stageOrDrop(line, full)) {
                throw new IllegalStateException("the full budget took a line");
            }
        });
        decodeOnly = codecs.createForLines(line -> sink.consume(line.textLength()));
        final byte[] pub = PubBatch.pubPrefix("docker.logs.web");
        directEncoder = new JsonEventEncoder(prefix, PooledByteBufAllocator.DEFAULT);
        direct = codecs.createForLines(line -> {
            if (!batch.add(pub, directEncoder, line)) {
                handOver();
                batch.add(pub, directEncoder, line);
            }
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reader.close();
        direct.close();
        dropping.close();
        decodeOnly.close();
        queue.close();
        directEncoder.close();
        read.release();
    }

    /** As the publisher's batch goes to jnats and its array comes back once NATS confirmed it (a steady stream). */
    private void handOver() {
        final byte[] wire = batch.take();
        sink.consume(wire);
        batch.recycle(wire);
    }

    @Benchmark
    public void queued() {
        read.clear().writeBytes(fifo);
        reader.decode(read);
        sink.consume(queue.commit()); // SharedConnection.commit, without waking a publisher
        int events = 0;
        long bytes = 0;
        long reservedBytes = 0;
        long lastResume = 0;
        while (true) {
            final int taken = queue.pollInto(batch, resume, reserved, 0);
            if (EventQueue.NONE == taken) {
                break;
            }
            if (EventQueue.NO_ROOM == taken) {
                handOver();
                continue;
            }
            events++;
            bytes += batch.lastSize();
            reservedBytes += reserved[0];
            lastResume = resume[0];
        }
        queue.confirmed(events, bytes, lastResume);
        budget.release(reservedBytes);
        queue.release(reservedBytes);
    }

    @Benchmark
    public void direct() {
        read.clear().writeBytes(fifo);
        direct.decode(read);
    }

    /** A flood past the buffer: every line of the read decoded and dropped (counted), as the reader does then. */
    @Benchmark
    public void dropped() {
        read.clear().writeBytes(fifo);
        dropping.decode(read);
        sink.consume(queue.commit());
    }

    /** The lines decoded and nothing else: what {@link #dropped} costs besides its bookkeeping. */
    @Benchmark
    public void decoded() {
        read.clear().writeBytes(fifo);
        decodeOnly.decode(read);
    }
}
