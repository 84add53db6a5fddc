package dev.natslog.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The throughput benchmark's subscriber: counts the messages a nats-server delivers on a subject, speaking the NATS
 * protocol itself — it reads each {@code MSG} line and skips its payload, answers the server's {@code PING}s, and
 * makes no object per message.
 *
 * <p>Why not jnats: its subscriber makes a message object and a copy of the payload for each message and hands it
 * to a dispatcher thread through a queue; at 300,000–450,000 messages a second on the benchmark's two cores that
 * subscriber now and then fell behind (its reader thread's CPU tripling for a second or two), nats-server then
 * stalled the publishing connection, and the case measured the subscriber: the same build delivered 130,000 or
 * 450,000 lines a second from run to run ({@code THREADS=1} shows the harness's threads beside the plugin's).
 *
 * <p>It does not check the payloads (the delivery tests do); it counts them.
 */
final class CountingSubscriber implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final AtomicLong received;
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final Thread reader;
    private volatile IOException failure;

    /**
     * Connects and subscribes; returns once the server answered the {@code PING} that follows the {@code SUB} (the
     * subscription is then in place).
     */
    CountingSubscriber(final String host, final int port, final String subject, final AtomicLong received)
        throws IOException, InterruptedException {
        this.received = received;
        socket = new Socket();
        socket.setReceiveBufferSize(4 << 20);
        socket.connect(new InetSocketAddress(host, port), 5_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        final InputStream in = socket.getInputStream();
        reader = Thread.ofPlatform().name("counting-subscriber").daemon(true).start(() -> read(in));
        send("CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"throughput-counter\"}\r\nSUB " + subject
            + " 1\r\nPING\r\n");
        if (!subscribed.await(10, TimeUnit.SECONDS)) {
            close();
            throw new IOException("nats-server did not answer the subscriber's PING", failure);
        }
    }

    private synchronized void send(final String protocol) throws IOException {
        out.write(protocol.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The protocol, read in 1 MiB blocks: control lines parsed in place, payloads skipped. */
    private void read(final InputStream in) {
        final byte[] buf = new byte[1 << 20];
        int start = 0; // first unparsed byte
        int end = 0; // end of the bytes read
        long skip = 0; // payload bytes (and their CRLF) still to skip
        try {
            while (true) {
                if (start == end) {
                    start = 0;
                    end = 0;
                } else if (end == buf.length) { // an unfinished control line: move it to the front
                    System.arraycopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                final int n = in.read(buf, end, buf.length - end);
                if (n < 0) {
                    return;
                }
                end += n;
                long messages = 0;
                while (true) {
                    if (skip > 0) {
                        final int s = (int) Math.min(skip, end - start);
                        start += s;
                        skip -= s;
                        if (skip > 0) {
                            break;
                        }
                    }
                    final int lineEnd = indexOfCrLf(buf, start, end);
                    if (lineEnd < 0) {
                        break;
                    }
                    if (startsWith(buf, start, "MSG ")) {
                        skip = lastNumber(buf, start, lineEnd) + 2; // the payload and its CRLF
                        messages++;
                    } else if (startsWith(buf, start, "PING")) {
                        send("PONG\r\n");
                    } else if (startsWith(buf, start, "PONG")) {
                        subscribed.countDown();
                    } else if (startsWith(buf, start, "-ERR")) {
                        System.err.println("subscriber: " + new String(buf, start, lineEnd - start,
                            StandardCharsets.US_ASCII));
                    } // INFO, +OK: nothing to do
                    start = lineEnd + 2;
                }
                if (messages > 0) {
                    received.addAndGet(messages);
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
