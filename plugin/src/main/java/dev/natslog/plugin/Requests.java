package dev.natslog.plugin;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.natslog.core.docker.ContainerInfo;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.util.List;
import java.util.Map;

/** The JSON bodies of Docker's LogDriver API, with Docker's Go field names. */
final class Requests {
    private Requests() {
    }

    /** {@code /LogDriver.StartLogging}. */
    @Serdeable
    record StartLogging(@JsonProperty("File") @Nullable String file, @JsonProperty("Info") @Nullable Info info) {
    }

    /** {@code /LogDriver.StopLogging}. */
    @Serdeable
    record StopLogging(@JsonProperty("File") @Nullable String file) {
    }

    /** Docker's {@code logger.Info}; any field may be null. */
    @Serdeable
    record Info(
        @JsonProperty("Config") @Nullable Map<String, String> config,
        @JsonProperty("ContainerID") @Nullable String containerId,
        @JsonProperty("ContainerName") @Nullable String containerName,
        @JsonProperty("ContainerEntrypoint") @Nullable String containerEntrypoint,
        @JsonProperty("ContainerArgs") @Nullable List<String> containerArgs,
        @JsonProperty("ContainerImageID") @Nullable String containerImageId,
        @JsonProperty("ContainerImageName") @Nullable String containerImageName,
        @JsonProperty("ContainerCreated") @Nullable String containerCreated,
        @JsonProperty("ContainerEnv") @Nullable List<String> containerEnv,
        @JsonProperty("ContainerLabels") @Nullable Map<String, String> containerLabels,
        @JsonProperty("LogPath") @Nullable String logPath,
        @JsonProperty("DaemonName") @Nullable String daemonName) {

        ContainerInfo toContainerInfo() {
            return new ContainerInfo(config, containerId, containerName, containerEntrypoint, containerArgs,
                containerImageId, containerImageName, containerCreated, containerEnv, containerLabels, logPath,
                daemonName);
        }
    }

    /** Every reply but Activate and Capabilities: empty {@code Err} means success. */
    @Serdeable
    record ErrResponse(@JsonProperty("Err") String err) {
    }

    /** {@code /Plugin.Activate}. */
    @Serdeable
    record ActivateResponse(@JsonProperty("Implements") List<String> implementsList) {
    }

    /** {@code /LogDriver.Capabilities}. */
    @Serdeable
    record CapabilitiesResponse(@JsonProperty("Cap") Capabilities cap) {
    }

    /** The capabilities: no ReadLogs, so dockerd keeps its own cache and {@code docker logs} works. */
    @Serdeable
    record Capabilities(@JsonProperty("ReadLogs") boolean readLogs) {
    }

    /** {@code /Stats} (this plugin's own, not dockerd's): {@link dev.natslog.core.stream.DriverStats}. */
    @Serdeable
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.ALWAYS)
    record StatsResponse(
        @JsonProperty("buffer_used_bytes") long bufferUsedBytes,
        @JsonProperty("buffer_capacity_bytes") long bufferCapacityBytes,
        @JsonProperty("connections") int connections,
        @JsonProperty("sent") long sent,
        @JsonProperty("dropped") long dropped,
        @JsonProperty("streams") List<StreamStats> streams) {

        static StatsResponse of(final dev.natslog.core.stream.DriverStats s) {
            return new StatsResponse(s.bufferUsedBytes(), s.bufferCapacityBytes(), s.connections(), s.sent(),
                s.dropped(), s.streams().stream().map(StreamStats::of).toList());
        }
    }

    /** One live stream in {@link StatsResponse}. */
    @Serdeable
    record StreamStats(
        @JsonProperty("container_id") String containerId,
        @JsonProperty("container_name") String containerName,
        @JsonProperty("subject") String subject,
        @JsonProperty("sent") long sent,
        @JsonProperty("sent_bytes") long sentBytes,
        @JsonProperty("dropped") long dropped,
        @JsonProperty("dropped_bytes") long droppedBytes,
        @JsonProperty("waiting") long waiting,
        @JsonProperty("corrupt_bytes_skipped") long corruptBytesSkipped) {

        static StreamStats of(final dev.natslog.core.stream.DriverStats.Stream s) {
            return new StreamStats(s.containerId(), s.containerName(), s.subject(), s.sent(), s.sentBytes(),
                s.dropped(), s.droppedBytes(), s.waiting(), s.corruptBytesSkipped());
        }
    }
}
