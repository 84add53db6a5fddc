import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts the events of `seq 1 N` containers on NATS, per subject, and checks they arrive complete and in order:
 *   java -cp plugin/target/nats-log-driver.jar Count.java URL SUBJECT-PATTERN OUT-FILE
 * Rewrites OUT-FILE every 100 ms with one line per subject: "subject count in-order last-arrival-epoch-ms".
 * Runs until killed.
 */
public class Count {
    static final class Tally {
        long count;
        long next = 1;
        boolean inOrder = true;
        long lastMillis;
    }

    public static void main(final String[] args) throws Exception {
        final Map<String, Tally> tallies = new TreeMap<>();
        final byte[] key = "\"text\":\"".getBytes(StandardCharsets.UTF_8);
        try (Connection c = Nats.connect(args[0])) {
            final Dispatcher d = c.createDispatcher(m -> {
                final byte[] data = m.getData();
                final long n = number(data, key);
                synchronized (tallies) {
                    final Tally t = tallies.computeIfAbsent(m.getSubject(), s -> new Tally());
                    t.count++;
                    t.inOrder &= n == t.next;
                    t.next = n + 1;
                    t.lastMillis = System.currentTimeMillis();
                }
            });
            d.setPendingLimits(-1, -1);
            d.subscribe(args[1]);
            c.flush(Duration.ofSeconds(5));
            final Path out = Path.of(args[2]);
            final Path tmp = Path.of(args[2] + ".tmp");
            while (true) {
                final StringBuilder sb = new StringBuilder("READY\n");
                synchronized (tallies) {
                    tallies.forEach((s, t) -> sb.append(s).append(' ').append(t.count).append(' ').append(t.inOrder)
                        .append(' ').append(t.lastMillis).append('\n'));
                }
                Files.writeString(tmp, sb);
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Thread.sleep(100);
            }
        }
    }

    /**
     * The number a `seq` line holds, read from the event's "text" field; -1 if there is none. The field is the
     * event's last, so the search runs from the end: a few bytes per event, whatever the metadata before it.
     */
    static long number(final byte[] data, final byte[] key) {
        outer:
        for (int i = data.length - key.length; i >= 0; i--) {
            for (int j = 0; j < key.length; j++) {
                if (data[i + j] != key[j]) {
                    continue outer;
                }
            }
            long n = 0;
            int k = i + key.length;
            if (k >= data.length || data[k] < '0' || data[k] > '9') {
                return -1;
            }
            while (k < data.length && data[k] >= '0' && data[k] <= '9') {
                n = n * 10 + (data[k++] - '0');
            }
            return n;
        }
        return -1;
    }
}
