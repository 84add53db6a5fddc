package dev.natslog.core.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/** What dockerd does with a plugin's FIFO: mkfifo, then open it read-write and write frames into it. */
public final class Fifo {
    private Fifo() {
    }

    public static Path make(final Path path) throws IOException, InterruptedException {
        final Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("mkfifo " + path + " failed");
        }
        return path;
    }

    /** Opens O_RDWR like dockerd, so neither side blocks in open(2). */
    public static FileChannel openWriter(final Path path) throws IOException {
        return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }
}
