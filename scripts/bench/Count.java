import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts the events of `seq 1 N` containers on NATS, per subject, and checks they arrive complete and in order:
 *   java Count.java URL SUBJECT-PATTERN OUT-FILE
 * Rewrites OUT-FILE every 100 ms with one line per subject: "subject count in-order last-arrival-epoch-ms".
 * Runs until killed.
 *
 * It speaks the NATS protocol itself (MSG lines parsed in place, PINGs answered) and makes no object per message:
 * it is part of the benchmark's harness, and jnats' subscriber (a message object and a payload copy per message,
 * handed to a dispatcher thread) cost more CPU than the plugin's publishing on the benchmark's two cores — and fell
 * behind now and then, when nats-server stalls the publisher (see ThroughputBenchmark's CountingSubscriber).
 */
public class Count {
    static final class Tally {
        long count;
        long next = 1;
        boolean inOrder = true;
        long lastMillis;
    }

    private static final byte[] KEY = "\"text\":\"".getBytes(StandardCharsets.UTF_8);

    public static void main(final String[] args) throws Exception {
        final Map<String, Tally> tallies = new TreeMap<>();
        final URI uri = URI.create(args[0]);
        try (Socket socket = new Socket(uri.getHost(), uri.getPort() < 0 ? 4222 : uri.getPort())) {
            socket.setReceiveBufferSize(4 << 20);
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            out.write(("CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"bench-count\"}\r\nSUB " + args[1]
                + " 1\r\nPING\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final Thread reader = Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    read(in, out, tallies);
                } catch (final IOException e) {
                    System.err.println("count: " + e);
                    System.exit(1);
                }
            });
            final Path file = Path.of(args[2]);
            final Path tmp = Path.of(args[2] + ".tmp");
            while (reader.isAlive()) {
                final StringBuilder sb = new StringBuilder();
                synchronized (tallies) {
                    if (tallies.containsKey(READY)) {
                        sb.append("READY\n");
                    }
                    tallies.forEach((s, t) -> {
                        if (!READY.equals(s)) {
                            sb.append(s).append(' ').append(t.count).append(' ').append(t.inOrder).append(' ')
                                .append(t.lastMillis).append('\n');
                        }
                    });
                }
                Files.writeString(tmp, sb);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Thread.sleep(100);
            }
        }
    }

    /** Marks, among the tallies, that the server answered the PING after the SUB: the subscription is in place. */
    private static final String READY = "";

    private static void read(final InputStream in, final OutputStream out, final Map<String, Tally> tallies)
        throws IOException {
        byte[] buf = new byte[4 << 20];
        int start = 0;
        int end = 0;
        byte[] lastSubject = new byte[0];
        Tally last = null;
        while (true) {
            if (start > 0 && (start == end || buf.length - end < 64 * 1024)) { // keep what is unparsed at the front
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2); // a message larger than the buffer
            }
            final int n = in.read(buf, end, buf.length - end);
            if (n < 0) {
                throw new IOException("nats-server closed the connection");
            }
            end += n;
            while (true) {
                final int lineEnd = indexOfCrLf(buf, start, end);
                if (lineEnd < 0) {
                    break;
                }
                if (buf[start] == 'M') { // MSG <subject> <sid> [reply] <size>
                    final int size = (int) lastNumber(buf, start, lineEnd);
                    final int payload = lineEnd + 2;
                    if (payload + size + 2 > end) {
                        break; // the rest of the message is still to come
                    }
                    final int subjectStart = start + 4;
                    int subjectEnd = subjectStart;
                    while (buf[subjectEnd] != ' ') {
                        subjectEnd++;
                    }
                    if (null == last || !Arrays.equals(buf, subjectStart, subjectEnd, lastSubject, 0,
                        lastSubject.length)) {
                        lastSubject = Arrays.copyOfRange(buf, subjectStart, subjectEnd);
                        final String subject = new String(lastSubject, StandardCharsets.US_ASCII);
                        synchronized (tallies) {
                            last = tallies.computeIfAbsent(subject, s -> new Tally());
                        }
                    }
                    final long number = number(buf, payload, payload + size);
                    synchronized (tallies) {
                        last.count++;
                        last.inOrder &= number == last.next;
                        last.next = number + 1;
                        last.lastMillis = System.currentTimeMillis();
                    }
                    start = payload + size + 2;
                    continue;
                }
                if (startsWith(buf, start, "PING")) {
                    out.write("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } else if (startsWith(buf, start, "PONG")) {
                    synchronized (tallies) {
                        tallies.put(READY, new Tally());
                    }
                } else if (startsWith(buf, start, "-ERR")) {
                    System.err.println("count: " + new String(buf, start, lineEnd - start, StandardCharsets.US_ASCII));
                } // INFO, +OK
                start = lineEnd + 2;
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

    /**
     * The number a `seq` line holds, read from the event's "text" field; -1 if there is none. The field is the
     * event's last, so the search runs from the end: a few bytes per event, whatever the metadata before it.
     */
    static long number(final byte[] data, final int from, final int to) {
        outer:
        for (int i = to - KEY.length; i >= from; i--) {
            for (int j = 0; j < KEY.length; j++) {
                if (data[i + j] != KEY[j]) {
                    continue outer;
                }
            }
            long n = 0;
            int k = i + KEY.length;
            if (k >= to || data[k] < '0' || data[k] > '9') {
                return -1;
            }
            while (k < to && data[k] >= '0' && data[k] <= '9') {
                n = n * 10 + (data[k++] - '0');
            }
            return n;
        }
        return -1;
    }
}
