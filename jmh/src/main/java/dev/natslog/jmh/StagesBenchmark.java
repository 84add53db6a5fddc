package dev.natslog.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.event.LineAssembler;
import dev.natslog.core.event.LogLine;
import dev.natslog.core.frame.FrameDecoder;
import dev.natslog.core.frame.LogEntryLayout;
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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The stages of the per-line path one by one, each beside the straightforward Java way in the same run. Times are
 * per 64 KiB FIFO read, like {@link HotPathBenchmark}; the setup prints the lines per read.
 *
 * <ul>
 *   <li>{@code decode} / {@code baselineDecode}: frames to field positions in place ({@code FrameDecoder} and its
 *   {@code LogEntry} flyweight) / protobuf-java parsing each frame into a {@code DynamicMessage}.</li>
 *   <li>{@code encodeInPlace}, {@code encode} / {@code baselineEncode}: decoded lines to JSON events, into the
 *   scratch buffer or into the one {@code byte[]} per event / Jackson writing a map of the event's fields (the
 *   texts are Strings already, made in the setup).</li>
 *   <li>{@code reassemble} / {@code baselineReassemble}: lines split by dockerd into four partial chunks each (with
 *   partial metadata: id, ordinal, last), decoded and joined back into whole lines ({@code FrameDecoder} →
 *   {@code LineAssembler}) / protobuf-java parsing, chunks appended to a {@code ByteArrayOutputStream} per partial
 *   id in a {@code HashMap}.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Dio.netty.noUnsafe=false", "--sun-misc-unsafe-memory-access=allow",
    "-Dio.netty.leakDetection.level=disabled"})
public class StagesBenchmark {
    private static final int CHUNKS_PER_LINE = 4;

    @Param({"100", "1024", "16384"})
    public int lineSize;

    @Param({"ASCII", "UTF8", "ESCAPES"})
    public Lines.Kind kind;

    private Blackhole sink;
    private byte[] fifo;
    private ByteBuf read;
    private FrameDecoder decoder;
    // the decoded lines, for the encoding stage
    private int lines;
    private int[] textOffset;
    private int[] textLength;
    private int[] sourceOffset;
    private int[] sourceLength;
    private long[] timeNano;
    private final LogLine line = new LogLine();
    private JsonEventEncoder encoder;
    private String[] texts;
    // partial chunks, for the reassembly stage
    private byte[] chunked;
    private ByteBuf chunkedRead;
    private FrameDecoder reassembler;

    // baseline
    private Descriptor logEntry;
    private FieldDescriptor source;
    private FieldDescriptor time;
    private FieldDescriptor text;
    private FieldDescriptor metadata;
    private FieldDescriptor metadataLast;
    private FieldDescriptor metadataId;
    private final ObjectMapper jackson = new ObjectMapper();
    private final Map<String, String> meta = Baseline.metadata();

    @Setup(Level.Trial)
    public void setUp(final Blackhole bh) throws Exception {
        sink = bh;
        fifo = Lines.fifoRead(lineSize, kind);
        read = PooledByteBufAllocator.DEFAULT.directBuffer(fifo.length).writeBytes(fifo);
        decoder = new FrameDecoder(PooledByteBufAllocator.DEFAULT, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH,
            e -> {
                bh.consume(e.lineLength());
                bh.consume(e.timeNano());
            });

        // positions of every line in the read, found once
        final List<long[]> found = new ArrayList<>();
        final FrameDecoder collect = new FrameDecoder(PooledByteBufAllocator.DEFAULT,
            LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH, e -> found.add(new long[] {e.lineOffset(), e.lineLength(),
            e.sourceOffset(), e.sourceLength(), e.timeNano()}));
        collect.decode(read.duplicate());
        collect.close();
        lines = found.size();
        textOffset = new int[lines];
        textLength = new int[lines];
        sourceOffset = new int[lines];
        sourceLength = new int[lines];
        timeNano = new long[lines];
        texts = new String[lines];
        for (int i = 0; i < lines; i++) {
            final long[] f = found.get(i);
            textOffset[i] = (int) f[0];
            textLength[i] = (int) f[1];
            sourceOffset[i] = (int) f[2];
            sourceLength[i] = (int) f[3];
            timeNano[i] = f[4];
            texts[i] = read.toString(textOffset[i], textLength[i], StandardCharsets.UTF_8);
        }
        encoder = new JsonEventEncoder(JsonEventEncoder.renderPrefix(meta), PooledByteBufAllocator.DEFAULT);

        chunked = chunkedRead(lineSize, kind);
        chunkedRead = PooledByteBufAllocator.DEFAULT.directBuffer(chunked.length);
        final LineAssembler assembler = new LineAssembler(PooledByteBufAllocator.DEFAULT,
            LineAssembler.DEFAULT_MAX_LINE_LENGTH, l -> bh.consume(l.textLength()));
        reassembler = new FrameDecoder(PooledByteBufAllocator.DEFAULT, LogEntryLayout.DEFAULT_MAX_FRAME_LENGTH,
            assembler);

        logEntry = Baseline.LOG_ENTRY;
        source = logEntry.findFieldByName("source");
        time = logEntry.findFieldByName("time_nano");
        text = logEntry.findFieldByName("line");
        metadata = logEntry.findFieldByName("partial_log_metadata");
        final Descriptor m = Baseline.PARTIAL_METADATA;
        metadataLast = m.findFieldByName("last");
        metadataId = m.findFieldByName("id");
        System.out.println("\nlines per 64 KiB read: " + lines + "; whole lines per 64 KiB read of partial chunks: "
            + Lines.count(chunked) / CHUNKS_PER_LINE);
    }

    /** Lines of {@code size} bytes, each cut into {@link #CHUNKS_PER_LINE} partial chunks, filling up to 64 KiB. */
    static byte[] chunkedRead(final int size, final Lines.Kind kind) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        long t = 1_795_631_425_123_456_789L;
        for (int i = 0; ; i++) {
            final byte[] whole = Lines.text(size, kind, i);
            final ByteArrayOutputStream frames = new ByteArrayOutputStream();
            final int chunk = (whole.length + CHUNKS_PER_LINE - 1) / CHUNKS_PER_LINE;
            for (int c = 0; c < CHUNKS_PER_LINE; c++) {
                final int from = Math.min(whole.length, c * chunk);
                final int to = Math.min(whole.length, from + chunk);
                frames.writeBytes(partialFrame(java.util.Arrays.copyOfRange(whole, from, to), t += 1_000,
                    "id-" + i, c + 1, c == CHUNKS_PER_LINE - 1));
            }
            if (out.size() > 0 && out.size() + frames.size() > 64 * 1024) {
                return out.toByteArray();
            }
            out.writeBytes(frames.toByteArray());
        }
    }

    private static byte[] partialFrame(final byte[] line, final long timeNano, final String id, final int ordinal,
                                       final boolean last) {
        try {
            final ByteArrayOutputStream md = new ByteArrayOutputStream();
            final CodedOutputStream m = CodedOutputStream.newInstance(md);
            m.writeBool(1, last);
            m.writeString(2, id);
            m.writeInt32(3, ordinal);
            m.flush();
            final ByteArrayOutputStream body = new ByteArrayOutputStream(line.length + 64);
            final CodedOutputStream out = CodedOutputStream.newInstance(body);
            out.writeString(1, "stdout");
            out.writeInt64(2, timeNano);
            out.writeByteArray(3, line);
            out.writeBool(4, true);
            out.writeByteArray(5, md.toByteArray());
            out.flush();
            final byte[] b = body.toByteArray();
            return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decoder.close();
        reassembler.close();
        encoder.close();
        read.release();
        chunkedRead.release();
    }

    @Benchmark
    public void decode() {
        decoder.decode(read.duplicate());
    }

    @Benchmark
    public void baselineDecode() throws IOException {
        final CodedInputStream in = CodedInputStream.newInstance(fifo);
        while (!in.isAtEnd()) {
            final int length = Integer.reverseBytes(in.readRawLittleEndian32());
            final int limit = in.pushLimit(length);
            sink.consume(DynamicMessage.parseFrom(logEntry, in));
            in.popLimit(limit);
        }
    }

    @Benchmark
    public void encodeInPlace() {
        for (int i = 0; i < lines; i++) {
            line.set(read, textOffset[i], textLength[i], read, sourceOffset[i], sourceLength[i], timeNano[i]);
            sink.consume(encoder.encodeInPlace(line));
        }
    }

    @Benchmark
    public void encode() {
        for (int i = 0; i < lines; i++) {
            line.set(read, textOffset[i], textLength[i], read, sourceOffset[i], sourceLength[i], timeNano[i]);
            sink.consume(encoder.encode(line));
        }
    }

    @Benchmark
    public void baselineEncode() throws IOException {
        for (int i = 0; i < lines; i++) {
            final Map<String, Object> event = new LinkedHashMap<>(meta);
            final long t = timeNano[i];
            event.put("time", Instant.ofEpochSecond(Math.floorDiv(t, 1_000_000_000L), Math.floorMod(t, 1_000_000_000L))
                .toString());
            event.put("source", "stdout");
            event.put("text", texts[i]);
            sink.consume(jackson.writeValueAsBytes(event));
        }
    }

    @Benchmark
    public void reassemble() {
        chunkedRead.clear().writeBytes(chunked);
        reassembler.decode(chunkedRead);
    }

    @Benchmark
    public void baselineReassemble() throws IOException {
        final Map<String, ByteArrayOutputStream> pending = new HashMap<>();
        final CodedInputStream in = CodedInputStream.newInstance(chunked);
        while (!in.isAtEnd()) {
            final int length = Integer.reverseBytes(in.readRawLittleEndian32());
            final int limit = in.pushLimit(length);
            final DynamicMessage m = DynamicMessage.parseFrom(logEntry, in);
            in.popLimit(limit);
            final DynamicMessage md = (DynamicMessage) m.getField(metadata);
            final String id = (String) md.getField(metadataId);
            final ByteArrayOutputStream line = pending.computeIfAbsent(id, k -> new ByteArrayOutputStream());
            ((ByteString) m.getField(text)).writeTo(line);
            if ((Boolean) md.getField(metadataLast)) {
                sink.consume(pending.remove(id).toByteArray());
                sink.consume(m.getField(source));
                sink.consume(m.getField(time));
            }
        }
    }
}
