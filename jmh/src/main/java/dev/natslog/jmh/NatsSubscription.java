package dev.natslog.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The benchmarks' subscriber: one subscription on a nats-server, spoken in the NATS protocol itself — each {@code MSG}
 * line parsed in place and its payload handed over where it lies in the read buffer, the server's {@code PING}s
 * answered — with no object per message. Used by {@link ThroughputBenchmark} (to count) and by the docker run
 * benchmark's {@code scripts/bench/Count.java} (to count per subject and check the order).
 *
 * <p>Why not jnats: its subscriber makes a message object and a copy of the payload for each message and hands it to
 * a dispatcher thread through a queue. At 300,000–450,000 messages a second on the benchmarks' two cores it fell
 * behind now and then (its reader thread's CPU tripling for a second or two); nats-server then stalled the publishing
 * connection, and a case measured the subscriber: the same build delivered 130,000 or 450,000 lines a second from
 * run to run. At nice 19 in the docker run benchmark it got the last line 0.3–0.6 s after the container's end.
 */
public final class NatsSubscription implements AutoCloseable {
    /** Receives each message on the subscription's reader thread; the bytes are valid during the call only. */
    public interface Sink {
        void message(byte[] buf, int subjectFrom, int subjectTo, int payloadFrom, int payloadTo);
    }

    private final Socket socket;
    private final OutputStream out;
    private final Sink sink;
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final Thread reader;
    private volatile IOException failure;

    /**
     * Connects and subscribes; returns once the server answered the {@code PING} that follows the {@code SUB} (the
     * subscription is then in place).
     */
    public NatsSubscription(final String host, final int port, final String subject, final Sink sink)
        throws IOException, InterruptedException {
        this.sink = sink;
        socket = new Socket();
        socket.setReceiveBufferSize(4 << 20);
        socket.connect(new InetSocketAddress(host, port), 5_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        final InputStream in = socket.getInputStream();
        reader = Thread.ofPlatform().name("nats-subscription").daemon(true).start(() -> read(in));
        send("CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"benchmark-subscriber\"}\r\nSUB " + subject
            + " 1\r\nPING\r\n");
        if (!subscribed.await(10, TimeUnit.SECONDS)) {
            close();
            throw new IOException("nats-server did not answer the subscriber's PING", failure);
        }
    }

    /** @return false once the connection ended (closed, or failed: see the error output). */
    public boolean isOpen() {
        return reader.isAlive();
    }

    private synchronized void send(final String protocol) throws IOException {
        out.write(protocol.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The protocol, read into a 4 MiB buffer (grown for a larger message): control lines parsed in place. */
    private void read(final InputStream in) {
        byte[] buf = new byte[4 << 20];
        int start = 0; // first unparsed byte
        int end = 0; // end of the bytes read
        try {
            while (true) {
                if (start > 0 && (start == end || buf.length - end < 64 * 1024)) { // the unparsed rest to the front
                    System.arraycopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2); // a message larger than the buffer
                }
                final int n = in.read(buf, end, buf.length - end);
                if (n < 0) {
                    return;
                }
                end += n;
                while (true) {
                    final int lineEnd = indexOfCrLf(buf, start, end);
                    if (lineEnd < 0) {
                        break;
                    }
                    if (startsWith(buf, start, "MSG ")) { // MSG <subject> <sid> [reply-to] <size>
                        final int payload = lineEnd + 2;
                        final int payloadEnd = payload + (int) lastNumber(buf, start, lineEnd);
                        if (payloadEnd + 2 > end) {
                            break; // the rest of the message is still to come
                        }
                        int subjectEnd = start + 4;
                        while (buf[subjectEnd] != ' ') {
                            subjectEnd++;
                        }
                        sink.message(buf, start + 4, subjectEnd, payload, payloadEnd);
                        start = payloadEnd + 2;
                        continue;
                    }
                    if (startsWith(buf, start, "PING")) {
                        send("PONG\r\n");
                    } else if (startsWith(buf, start, "PONG")) {
                        subscribed.countDown();
                    } else if (startsWith(buf, start, "-ERR")) {
                        System.err.println("subscriber: " + new String(buf, start, lineEnd - start,
                            StandardCharsets.US_ASCII));
                    } // INFO, +OK: nothing to do
                    start = lineEnd + 2;
                }
            }
        } catch (final IOException e) {
            if (!socket.isClosed()) {
                failure = e;
                System.err.println("subscriber: " + e);
            }
        }
    }

    private static int indexOfCrLf(final byte[] b, final int from, final int to) {
        for (int i = from; i + 1 < to; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static boolean startsWith(final byte[] b, final int at, final String prefix) {
        for (int i = 0; i < prefix.length(); i++) {
            if (b[at + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** @return the number that ends the line {@code [from, lineEnd)}: a {@code MSG} line's payload size. */
    private static long lastNumber(final byte[] b, final int from, final int lineEnd) {
        int i = lineEnd;
        while (i > from && b[i - 1] >= '0' && b[i - 1] <= '9') {
            i--;
        }
        long n = 0;
        for (; i < lineEnd; i++) {
            n = n * 10 + (b[i] - '0');
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        socket.close();
        try {
            reader.join(5_000);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
