package dev.natslog.plugin;

import dev.natslog.core.stream.LogDriver;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** Makes the one {@link LogDriver} of the process; closing it (on SIGTERM) flushes every connection. */
@Factory
final class DriverFactory {
    @Singleton
    @Bean(preDestroy = "close")
    LogDriver logDriver() {
        return new LogDriver(PluginSettings.fromEnvironment(System.getenv()));
    }
}
