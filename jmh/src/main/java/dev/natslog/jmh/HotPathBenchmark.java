package dev.natslog.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.ByteString;
import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LineAssembler;
import dev.natslog.core.event.LogStreamCodec;
import dev.natslog.core.frame.LogEntryLayout;
import dev.natslog.core.nats.PubBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
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

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The whole per-line path: one 64 KiB FIFO read of frames → decoded in place → JSON events. Times are per read;
 * divide by {@code lines} (printed in the setup) for per-line figures, or use {@code -prof gc} for B/op per read.
 * {@link StagesBenchmark} measures decoding, encoding and partial-line reassembly one by one.
 *
 * <ul>
 *   <li>{@code natsLogDriver}: core's codec, producing the one {@code byte[]} per event handed to jnats.</li>
 *   <li>{@code natsLogDriverInPlace}: the same, stopping at the pooled scratch buffer (no {@code byte[]}): what
 *   the path itself allocates.</li>
 *   <li>{@code natsLogDriverPubBatch}: what the plugin does now — each line's event encoded straight into a 64 KiB
 *   {@link PubBatch} after its {@code PUB} line, the batch handed on in its own array, which comes back for a later
 *   batch (as the publisher's do once NATS confirmed their events).</li>
 *   <li>{@code baselineProtobufJackson}: the straightforward Java way — protobuf-java parses each frame into a
 *   message object, Jackson writes a map of the event's fields to bytes.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Dio.netty.noUnsafe=false", "--sun-misc-unsafe-memory-access=allow",
    "-Dio.netty.leakDetection.level=disabled"})
public class HotPathBenchmark {
    @Param({"100", "1024", "16384"})
    public int lineSize;

    @Param({"ASCII", "UTF8", "ESCAPES"})
    public Lines.Kind kind;

    private byte[] fifo;
    private ByteBuf read;
    private LogStreamCodec codec;
    private LogStreamCodec inPlace;
    private LogStreamCodec batched;
    private JsonEventEncoder batchEncoder;
    private Blackhole sink;
    private int lines;

    // baseline
    private Descriptor logEntry;
    private FieldDescriptor source;
    private FieldDescriptor timeNano;
    private FieldDescriptor line;
    private final ObjectMapper jackson = new ObjectMapper();
    private final Map<String, String> meta = Baseline.metadata();

    @Setup(Level.Trial)
    public void setUp(final Blackhole bh) throws Exception {
        sink = bh;
        fifo = Lines.fifoRead(lineSize, kind);
        lines = Lines.count(fifo);
        read = PooledByteBufAllocator.DEFAULT.directBuffer(fifo.length);
        final byte[] prefix = JsonEventEncoder.renderPrefix(meta);
        codec = new LogStreamCodec(PooledByteBufAllocator.DEFAULT, prefix, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH,
            LineAssembler.DEFAULT_MAX_LINE_LENGTH, (event, resume) -> bh.consume(event));
        inPlace = LogStreamCodec.inPlaceForBenchmarks(PooledByteBufAllocator.DEFAULT, prefix, bh::consume);
        final PubBatch batch = new PubBatch(io.nats.client.Options.DEFAULT_BUFFER_SIZE, 1);
        final byte[] pub = PubBatch.pubPrefix("docker.logs.web");
        batchEncoder = new JsonEventEncoder(prefix, PooledByteBufAllocator.DEFAULT);
        batched = new LogStreamCodec.Factory(PooledByteBufAllocator.DEFAULT, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH,
            LineAssembler.DEFAULT_MAX_LINE_LENGTH).createForLines(line -> {
                if (!batch.add(pub, batchEncoder, line)) {
                    final byte[] wire = batch.take();
                    bh.consume(wire);
                    batch.recycle(wire); // as the publisher does once NATS confirmed its events: a steady stream
                    batch.add(pub, batchEncoder, line);
                }
            });

        logEntry = Baseline.LOG_ENTRY;
        source = logEntry.findFieldByName("source");
        timeNano = logEntry.findFieldByName("time_nano");
        line = logEntry.findFieldByName("line");
        System.out.println("\nlines per 64 KiB read: " + lines);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        codec.close();
        inPlace.close();
        batched.close();
        batchEncoder.close();
        read.release();
    }

    @Benchmark
    public void natsLogDriver() {
        read.clear().writeBytes(fifo);
        codec.decode(read);
    }

    @Benchmark
    public void natsLogDriverInPlace() {
        read.clear().writeBytes(fifo);
        inPlace.decode(read);
    }

    @Benchmark
    public void natsLogDriverPubBatch() {
        read.clear().writeBytes(fifo);
        batched.decode(read);
    }

    @Benchmark
    public void baselineProtobufJackson() throws Exception {
        final CodedInputStream in = CodedInputStream.newInstance(fifo);
        while (!in.isAtEnd()) {
            final int length = Integer.reverseBytes(in.readRawLittleEndian32());
            final int limit = in.pushLimit(length);
            final DynamicMessage m = DynamicMessage.parseFrom(logEntry, in);
            in.popLimit(limit);
            final Map<String, Object> event = new LinkedHashMap<>(meta);
            final long t = (Long) m.getField(timeNano);
            event.put("time", Instant.ofEpochSecond(Math.floorDiv(t, 1_000_000_000L), Math.floorMod(t, 1_000_000_000L)).toString());
            event.put("source", m.getField(source));
            event.put("text", ((ByteString) m.getField(line)).toStringUtf8());
            sink.consume(jackson.writeValueAsBytes(event));
        }
    }
}
