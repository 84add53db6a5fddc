package dev.natslog.core.fifo;

import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The libc calls the JDK and Netty do not offer for FIFOs, through the FFM API (JDK 22+; the process needs
 * {@code --enable-native-access=ALL-UNNAMED} to make them without a warning):
 * <ul>
 *   <li>{@code open(2)} of a FIFO, non-blocking, for registration on an epoll loop (the JDK gives no int fd for
 *   a file it opened, and {@link FileDescriptor#from(String)} opens write-only);</li>
 *   <li>{@code splice(2)} from a FIFO into a file: the kernel moves the bytes in one step, so a process killed at
 *   any instant has every byte it took from the FIFO in the file ({@link Splicer});</li>
 *   <li>{@code fcntl(F_SETPIPE_SZ)}: a FIFO being read gets a {@link #PIPE_SIZE} buffer instead of the kernel's
 *   64 KiB ({@link #growPipe}), so a reader thread kept off the CPU for a while (a busy host) does not block
 *   dockerd's writes — 64 KiB are about 9 ms of a container printing 300,000 short lines a second. Linux counts
 *   pipe buffers per user, and once root's pipes pass {@code pipe-user-pages-soft} (64 MiB by default) the new pipes
 *   of root processes without {@code CAP_SYS_RESOURCE} (containers, by default) get 8 KiB: so the plugin grows
 *   FIFOs by at most {@link #MAX_GROWN_BYTES} in all, a quarter of that, and the others keep the kernel's size.</li>
 * </ul>
 */
public final class NativeFifo {
    // <fcntl.h> and <errno.h> values shared by Linux x86_64 and aarch64
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_NOATIME = 0x40000;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int F_GETPIPE_SZ = 1032;
    private static final int SPLICE_F_MOVE = 1;
    private static final int SPLICE_F_NONBLOCK = 2;
    private static final int ENOENT = 2;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int EPERM = 1;
    private static final int EACCES = 13;
    private static final int EINVAL = 22;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
        .byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(
        LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), ERRNO);
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
        LINKER.defaultLookup().find("close").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SPLICE = LINKER.downcallHandle(
        LINKER.defaultLookup().find("splice").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), ERRNO);

    private static final MethodHandle PREAD = LINKER.downcallHandle(
        LINKER.defaultLookup().find("pread").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG), ERRNO);
    private static final MethodHandle FCNTL = LINKER.downcallHandle(
        LINKER.defaultLookup().find("fcntl").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
        Linker.Option.firstVariadicArg(2));

    /**
     * The pipe buffer a FIFO gets when opened for reading: 1 MiB, Linux's {@code pipe-max-size} by default (the
     * pages are taken only as bytes wait in them).
     */
    public static final int PIPE_SIZE = 1024 * 1024;
    /** The most this process adds to FIFO buffers in all (a quarter of Linux's default {@code pipe-user-pages-soft}). */
    public static final long MAX_GROWN_BYTES = 16L * 1024 * 1024;
    private static final java.util.concurrent.atomic.AtomicLong GROWN = new java.util.concurrent.atomic.AtomicLong();

    private NativeFifo() {
    }

    /**
     * @param fifo the FIFO's path.
     * @return its descriptor, opened {@code O_RDONLY | O_NONBLOCK | O_CLOEXEC}; the caller closes it.
     * @throws IOException when open(2) fails; the message has the path and the errno.
     */
    public static FileDescriptor openForReading(final Path fifo) throws IOException {
        return new FileDescriptor(open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC, "FIFO"));
    }

    /**
     * Gives a FIFO a {@link #PIPE_SIZE} buffer, while this process has grown FIFOs by less than
     * {@link #MAX_GROWN_BYTES} in all; where the kernel refuses (a lower {@code pipe-max-size}, root's pipes past the
     * soft limit) the pipe keeps its size.
     *
     * @param pipe a FIFO opened for reading.
     * @return the bytes added to its buffer, to hand to {@link #pipeReleased} when it is closed; 0 if none.
     */
    public static long growPipe(final FileDescriptor pipe) {
        final int before = pipeSize(pipe);
        final long extra = PIPE_SIZE - (long) before;
        if (before <= 0 || extra <= 0) {
            return 0;
        }
        if (GROWN.addAndGet(extra) > MAX_GROWN_BYTES) {
            GROWN.addAndGet(-extra);
            return 0;
        }
        if (fcntl(pipe.intValue(), F_SETPIPE_SZ, PIPE_SIZE) < 0) {
            GROWN.addAndGet(-extra);
            return 0;
        }
        return extra;
    }

    /** A FIFO grown by {@link #growPipe} is closed: its growth no longer counts against {@link #MAX_GROWN_BYTES}. */
    public static void pipeReleased(final long grown) {
        GROWN.addAndGet(-grown);
    }

    /** @return the bytes this process has added to FIFO buffers ({@link #growPipe}) and not released. */
    public static long grownBytes() {
        return GROWN.get();
    }

    /** @return the size of a pipe's buffer ({@code F_GETPIPE_SZ}), or -1 when it cannot be told. */
    public static int pipeSize(final FileDescriptor pipe) {
        return fcntl(pipe.intValue(), F_GETPIPE_SZ, 0);
    }

    private static int fcntl(final int fd, final int command, final int argument) {
        try {
            return (int) FCNTL.invokeExact(fd, command, argument);
        } catch (final Throwable t) {
            return -1;
        }
    }

    /**
     * @param file an existing regular file.
     * @return a descriptor open for writing and reading back ({@code O_RDWR | O_CLOEXEC}, and {@code O_NOATIME}
     *     where the process may: the file's owner, or root), the target of {@link Splicer#splice} and
     *     {@link Splicer#read}; the caller closes it with {@link #close(int)}. Without {@code O_NOATIME}, each read
     *     back after a write dirties the inode again for its access time ({@code relatime} updates it whenever it is
     *     older than the last write): a second inode update and ext4 journal handle per FIFO read, which a profile of
     *     1000 quiet containers put at ~4 % of the plugin's CPU.
     * @throws IOException when open(2) fails.
     */
    public static int openForSplicing(final Path file) throws IOException {
        try {
            return open(file, O_RDWR | O_CLOEXEC | O_NOATIME, "file");
        } catch (final NoAtimeRefused e) {
            return open(file, O_RDWR | O_CLOEXEC, "file");
        }
    }

    /** Closes a descriptor from {@link #openForSplicing}. */
    public static void close(final int fd) {
        try {
            final int ignored = (int) CLOSE.invokeExact(fd);
        } catch (final Throwable t) {
            throw new IllegalStateException("close(2) could not be called", t);
        }
    }

    private static int open(final Path path, final int flags, final String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            final MemorySegment p = arena.allocateFrom(path.toString());
            final int fd = (int) OPEN.invokeExact(state, p, flags);
            if (fd < 0) {
                final int errno = state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
                if (errno == EPERM && 0 != (flags & O_NOATIME)) {
                    throw new NoAtimeRefused();
                }
                throw new IOException("cannot open " + what + " " + path + ": errno " + errno
                    + (errno == ENOENT ? " (no such file)" : errno == EACCES ? " (permission denied)" : ""));
            }
            return fd;
        } catch (final IOException | RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IOException("cannot open " + what + " " + path, t);
        }
    }

    /** open(2) refused {@code O_NOATIME}: the process neither owns the file nor may act as its owner. */
    private static final class NoAtimeRefused extends IOException {
        NoAtimeRefused() {
            super("O_NOATIME refused");
        }
    }

    /**
     * Moves bytes from a FIFO into a file with {@code splice(2)}. The kernel takes from the pipe exactly what it
     * wrote into the file, so no byte is ever only in this process's memory.
     *
     * <p><b>Allocation:</b> two small native segments per splicer, none per call. Not thread-safe.
     */
    public static final class Splicer {
        /** {@link #splice} found the FIFO empty, with a writer still attached. */
        public static final long AGAIN = -1;

        private final MemorySegment state = Arena.ofAuto().allocate(Linker.Option.captureStateLayout());
        private final MemorySegment offset = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);

        /**
         * @param fifo       a FIFO opened non-blocking.
         * @param file       a descriptor from {@link #openForSplicing}.
         * @param fileOffset where in the file the bytes go.
         * @param max        bytes at most.
         * @return bytes moved; 0 at end of file (every writer closed the FIFO); {@link #AGAIN} when it is empty.
         * @throws IOException when splice(2) fails (EINVAL: the file's file system cannot be spliced into).
         */
        public long splice(final int fifo, final int file, final long fileOffset, final long max) throws IOException {
            offset.set(ValueLayout.JAVA_LONG, 0, fileOffset);
            while (true) {
                final long n;
                try {
                    n = (long) SPLICE.invokeExact(state, fifo, MemorySegment.NULL, file, offset, max,
                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                } catch (final Throwable t) {
                    throw new IOException("splice(2) could not be called", t);
                }
                if (n >= 0) {
                    return n;
                }
                final int errno = state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
                if (errno == EAGAIN) {
                    return AGAIN;
                }
                if (errno != EINTR) {
                    throw new IOException("splice from a FIFO into a file failed: errno " + errno
                        + (errno == EINVAL ? " (the file system does not support splice)" : ""));
                }
            }
        }

        /**
         * Reads bytes of a file back with {@code pread(2)}, straight into native memory.
         *
         * @param file       a descriptor from {@link #openForSplicing}.
         * @param address    where they go: {@code count} bytes of native memory.
         * @param count      bytes to read.
         * @param fileOffset from where in the file.
         * @throws IOException when pread(2) fails or the file ends before {@code count} bytes.
         */
        public void read(final int file, final long address, final long count, final long fileOffset)
            throws IOException {
            long done = 0;
            while (done < count) {
                final long n;
                try {
                    n = (long) PREAD.invokeExact(state, file, MemorySegment.ofAddress(address + done), count - done,
                        fileOffset + done);
                } catch (final Throwable t) {
                    throw new IOException("pread(2) could not be called", t);
                }
                if (n > 0) {
                    done += n;
                } else if (n == 0) {
                    throw new IOException("the file ends " + (count - done) + " bytes before what was spliced into it");
                } else {
                    final int errno = state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
                    if (errno != EINTR) {
                        throw new IOException("pread from the journal failed: errno " + errno);
                    }
                }
            }
        }
    }
}
