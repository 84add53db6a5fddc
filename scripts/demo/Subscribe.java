import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Prints what arrives on a NATS subject: java -cp plugin/target/nats-log-driver.jar Subscribe.java URL SUBJECT SECONDS */
public class Subscribe {
    public static void main(final String[] args) throws Exception {
        try (Connection c = Nats.connect(args[0])) {
            final Subscription sub = c.subscribe(args[1]);
            c.flush(Duration.ofSeconds(5));
            System.out.println("READY");
            final long end = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[2])).toNanos();
            while (System.nanoTime() < end) {
                final Message m = sub.nextMessage(Duration.ofMillis(200));
                if (null != m) {
                    System.out.println(m.getSubject() + " " + new String(m.getData(), StandardCharsets.UTF_8));
                }
            }
        }
    }
}
