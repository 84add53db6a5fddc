package dev.natslog.core.config;

/**
 * A {@code --log-opt} that cannot be used. The message names the option, shows the bad value (never for a
 * secret) and says what is expected; it is what {@code docker run} prints.
 */
public final class OptionException extends IllegalArgumentException {
    private final String option;

    OptionException(final String option, final String message) {
        super(message);
        this.option = option;
    }

    /** @return the option's key, e.g. {@code nats-max-reconnect}. */
    public String option() {
        return option;
    }
}
