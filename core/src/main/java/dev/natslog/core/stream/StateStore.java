package dev.natslog.core.stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Remembers each live stream's StartLogging request on disk (one small file per stream, removed when the
 * stream ends), so that a restarted plugin can re-open the FIFOs dockerd still writes to: dockerd restarts a
 * dead plugin but never repeats StartLogging.
 */
public final class StateStore {
    private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);
    private static final String SUFFIX = ".start.json";

    private final Path dir;

    /**
     * @param dir where the files live; created when needed.
     */
    public StateStore(final Path dir) {
        this.dir = dir;
    }

    /**
     * Saves a stream's request atomically (written aside, then moved in place).
     *
     * @param file    the stream's FIFO path.
     * @param request the StartLogging body, as dockerd sent it.
     */
    public void save(final String file, final byte[] request) throws IOException {
        Files.createDirectories(dir);
        final Path target = pathFor(file);
        final Path tmp = dir.resolve(target.getFileName() + ".tmp");
        Files.write(tmp, request);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (final AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Forgets a stream. */
    public void remove(final String file) {
        try {
            Files.deleteIfExists(pathFor(file));
        } catch (final IOException e) {
            LOG.warn("cannot remove state file of {}: {}", file, e.toString());
        }
    }

    /** @return every saved request. */
    public List<byte[]> all() {
        final List<byte[]> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (final Path p : files) {
                try {
                    out.add(Files.readAllBytes(p));
                } catch (final IOException e) {
                    LOG.warn("cannot read state file {}: {}", p, e.toString());
                }
            }
        } catch (final IOException e) {
            LOG.warn("cannot list state directory {}: {}", dir, e.toString());
        }
        return out;
    }

    private Path pathFor(final String file) {
        return dir.resolve(nameFor(file) + SUFFIX);
    }

    /** @return the name a stream's files get: dockerd's FIFO names are 64 hex digits; others are made safe. */
    static String nameFor(final String file) {
        return Path.of(file).getFileName().toString().replaceAll("[^A-Za-z0-9_.-]", "_");
    }
}
