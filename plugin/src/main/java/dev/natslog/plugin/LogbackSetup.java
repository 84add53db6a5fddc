package dev.natslog.plugin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

import java.util.Locale;

/**
 * The plugin's logging, set up in code (found by logback through {@code META-INF/services}), so the runtime needs
 * no XML parser: one line per event on stdout, which dockerd files in its own log; the level from
 * {@code LOG_LEVEL} (default INFO); Micronaut and Netty at WARN.
 */
public final class LogbackSetup extends ContextAwareBase implements Configurator {
    /** The line format: time, level, class, message. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}: %msg%n";

    @Override
    public ExecutionStatus configure(final LoggerContext context) {
        final PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        final ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName("STDOUT");
        stdout.setEncoder(encoder);
        stdout.start();
        final ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(stdout);
        root.setLevel(level(System.getenv("LOG_LEVEL")));
        context.getLogger("io.micronaut").setLevel(Level.WARN);
        context.getLogger("io.netty").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** @return the level named (any case), INFO when none or an unknown one is given. */
    static Level level(final String name) {
        return null == name || name.isBlank() ? Level.INFO : Level.toLevel(name.trim().toUpperCase(Locale.ROOT), Level.INFO);
    }
}
