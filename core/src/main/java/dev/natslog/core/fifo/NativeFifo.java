package dev.natslog.core.fifo;

import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Opens a FIFO for non-blocking reading and returns its file descriptor, for registration on an epoll loop.
 *
 * <p>The JDK gives no int fd for a file it opened, and {@link FileDescriptor#from(String)} opens write-only, so
 * this calls libc's {@code open(2)} through the FFM API (JDK 22+). The process needs
 * {@code --enable-native-access=ALL-UNNAMED} to do so without a warning.
 */
public final class NativeFifo {
    // <fcntl.h> values shared by Linux x86_64 and aarch64
    private static final int O_RDONLY = 0;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = LINKER.downcallHandle(
        LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
        Linker.Option.captureCallState("errno"));
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
        .byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private NativeFifo() {
    }

    /**
     * @param fifo the FIFO's path.
     * @return its descriptor, opened {@code O_RDONLY | O_NONBLOCK | O_CLOEXEC}; the caller closes it.
     * @throws IOException when open(2) fails; the message has the path and the errno.
     */
    public static FileDescriptor openForReading(final Path fifo) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            final MemorySegment path = arena.allocateFrom(fifo.toString());
            final int fd = (int) OPEN.invokeExact(state, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                final int errno = state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
                throw new IOException("cannot open FIFO " + fifo + ": errno " + errno
                    + (errno == 2 ? " (no such file)" : errno == 13 ? " (permission denied)" : ""));
            }
            return new FileDescriptor(fd);
        } catch (final IOException | RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IOException("cannot open FIFO " + fifo, t);
        }
    }
}
