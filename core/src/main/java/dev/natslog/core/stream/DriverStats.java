package dev.natslog.core.stream;

import java.util.List;

/**
 * What the driver has done, at one moment: the counters users of log drivers ask for (sent, dropped, waiting),
 * plugin-wide and per live stream.
 *
 * @param bufferUsedBytes     bytes of lines waiting for NATS (queued or in flight), across the plugin.
 * @param bufferCapacityBytes the plugin-wide bound ({@code NATS_BUFFER_SIZE}).
 * @param connections         NATS connections open.
 * @param sent                events NATS confirmed since the plugin started, ended streams included.
 * @param dropped             lines dropped since the plugin started (buffer full, or an event over the server's
 *                            max_payload), ended streams included.
 * @param streams             the live streams.
 */
public record DriverStats(long bufferUsedBytes, long bufferCapacityBytes, int connections, long sent, long dropped,
                          List<Stream> streams) {
    public DriverStats {
        streams = List.copyOf(streams);
    }

    /**
     * One live stream.
     *
     * @param containerId         the container's full id.
     * @param containerName       its name, without the leading {@code /}.
     * @param subject             where its events go.
     * @param sent                events NATS confirmed.
     * @param sentBytes           bytes of those events.
     * @param dropped             lines dropped.
     * @param droppedBytes        bytes of the dropped lines.
     * @param waiting             lines waiting for NATS (queued or in flight).
     * @param corruptBytesSkipped bytes of corrupt frames skipped.
     */
    public record Stream(String containerId, String containerName, String subject, long sent, long sentBytes,
                         long dropped, long droppedBytes, long waiting, long corruptBytesSkipped) {
    }
}
