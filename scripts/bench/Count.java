import dev.natslog.jmh.NatsSubscription;

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
 *   java -cp jmh/target/benchmarks.jar Count.java URL SUBJECT-PATTERN OUT-FILE
 * Rewrites OUT-FILE every 100 ms with one line per subject: "subject count in-order last-arrival-epoch-ms".
 * Runs until killed. Subscribes with the benchmarks' NatsSubscription (the protocol read in place, no object per
 * message: see there why not jnats).
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
        final NatsSubscription.Sink sink = new NatsSubscription.Sink() {
            private byte[] lastSubject = new byte[0];
            private Tally last;

            @Override
            public void message(final byte[] buf, final int subjectFrom, final int subjectTo, final int payloadFrom,
                                final int payloadTo) {
                final long number = number(buf, payloadFrom, payloadTo);
                synchronized (tallies) {
                    if (null == last || !Arrays.equals(buf, subjectFrom, subjectTo, lastSubject, 0, lastSubject.length)) {
                        lastSubject = Arrays.copyOfRange(buf, subjectFrom, subjectTo);
                        last = tallies.computeIfAbsent(new String(lastSubject, StandardCharsets.US_ASCII),
                            s -> new Tally());
                    }
                    last.count++;
                    last.inOrder &= number == last.next;
                    last.next = number + 1;
                    last.lastMillis = System.currentTimeMillis();
                }
            }
        };
        try (NatsSubscription sub = new NatsSubscription(uri.getHost(), uri.getPort() < 0 ? 4222 : uri.getPort(),
            args[1], sink)) {
            final Path out = Path.of(args[2]);
            final Path tmp = Path.of(args[2] + ".tmp");
            while (sub.isOpen()) {
                final StringBuilder sb = new StringBuilder("READY\n");
                synchronized (tallies) {
                    tallies.forEach((s, t) -> sb.append(s).append(' ').append(t.count).append(' ').append(t.inOrder)
                        .append(' ').append(t.lastMillis).append('\n'));
                }
                Files.writeString(tmp, sb);
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Thread.sleep(100);
            }
            System.err.println("count: the connection to nats-server ended");
            System.exit(1);
        }
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
