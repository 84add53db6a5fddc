package dev.natslog.plugin;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PluginSettingsTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void theBufferMayTakeAtMostHalfTheDirectMemory() {
        assertEquals(32 * MIB, PluginSettings.bufferWithinMemory(32 * MIB, 96 * MIB));
        assertEquals(48 * MIB, PluginSettings.bufferWithinMemory(128 * MIB, 96 * MIB));
    }

    @Test
    void settingsAreReadFromTheEnvironment() {
        final var c = PluginSettings.fromEnvironment(Map.of("NATS_BUFFER_SIZE", "1m", "READER_THREADS", "3",
            "STATE_DIR", "/tmp/x", "DRAIN_ONLY", "true", "NATS_SERVERS", "n1:4222", "PUBLISHER_NICE", "19",
            "DISCARD_EVENTS", "true"));
        assertEquals(MIB, c.bufferBytes());
        assertEquals(3, c.readerThreads());
        assertEquals(Path.of("/tmp/x"), c.stateDir());
        assertTrue(c.drainOnly());
        assertEquals("n1:4222", c.optionDefaults().get("nats-servers"));
        assertEquals(19, c.publisherNice());
        assertTrue(c.discardEvents());
        final var defaults = PluginSettings.fromEnvironment(Map.of());
        assertEquals(0, defaults.publisherNice());
        assertFalse(defaults.discardEvents());
        assertFalse(defaults.drainOnly());
    }

    @Test
    void aBadNiceValueNamesTheSetting() {
        for (final String bad : new String[] {"20", "-1", "low"}) {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PluginSettings.fromEnvironment(Map.of("PUBLISHER_NICE", bad)));
            assertTrue(e.getMessage().startsWith("PUBLISHER_NICE='" + bad + "' is invalid"), e.getMessage());
        }
    }

    @Test
    void aBadSizeNamesTheSetting() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PluginSettings.fromEnvironment(Map.of("NATS_BUFFER_SIZE", "huge")));
        assertTrue(e.getMessage().startsWith("NATS_BUFFER_SIZE='huge' is invalid: expected a positive size"),
            e.getMessage());
    }
}
