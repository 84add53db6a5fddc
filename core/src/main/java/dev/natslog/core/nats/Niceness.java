package dev.natslog.core.nats;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.lang.foreign.ValueLayout;

/**
 * Lowers the calling thread's scheduling priority (its nice value) with {@code setpriority(2)} on its own thread
 * id, through the FFM API: Linux keeps a nice value per thread, and raising one needs no privilege. Java's thread
 * priorities do not reach the kernel unless the JVM runs as root with {@code -XX:ThreadPriorityPolicy=1}, and then
 * only down to nice 4.
 */
final class Niceness {
    private static final Logger LOG = LoggerFactory.getLogger(Niceness.class);
    private static final int PRIO_PROCESS = 0;
    private static final MethodHandle GETTID;
    private static final MethodHandle SETPRIORITY;
    private static volatile boolean warned;

    static {
        MethodHandle gettid = null;
        MethodHandle setpriority = null;
        try {
            final Linker linker = Linker.nativeLinker();
            gettid = linker.downcallHandle(linker.defaultLookup().find("gettid").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
            setpriority = linker.downcallHandle(linker.defaultLookup().find("setpriority").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
        } catch (final RuntimeException e) {
            LOG.debug("no setpriority(2) here: {}", e.toString());
        }
        GETTID = gettid;
        SETPRIORITY = setpriority;
    }

    private Niceness() {
    }

    /**
     * Sets the calling thread's nice value; where that cannot be done, says so once and carries on.
     *
     * @param nice 0 (normal) to 19 (runs only on what other threads leave).
     */
    static void ofCurrentThread(final int nice) {
        if (0 == nice) {
            return;
        }
        try {
            if (null != SETPRIORITY && 0 == (int) SETPRIORITY.invokeExact(PRIO_PROCESS, (int) GETTID.invokeExact(), nice)) {
                return;
            }
        } catch (final Throwable t) {
            LOG.debug("setpriority failed: {}", t.toString());
        }
        if (!warned) {
            warned = true;
            LOG.warn("cannot lower the publishing threads' priority to nice {}: they compete with the containers",
                nice);
        }
    }
}
