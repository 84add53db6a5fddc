package dev.natslog.core.docker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code Info} object dockerd sends with StartLogging (moby's {@code logger.Info}), with the derived values
 * every Docker driver offers ({@link #id()}, {@link #name()}, {@link #command()}, …). Null lists and maps from
 * dockerd become empty ones; null strings become "".
 *
 * @param config             every {@code --log-opt} of the container.
 * @param containerId        64 hex digits.
 * @param containerName      with dockerd's leading '/'.
 * @param containerEntrypoint the entrypoint.
 * @param containerArgs      the arguments.
 * @param containerImageId   {@code sha256:…}.
 * @param containerImageName as the user typed it.
 * @param containerCreated   RFC3339Nano.
 * @param containerEnv       {@code K=V} entries.
 * @param containerLabels    the labels.
 * @param logPath            usually "".
 * @param daemonName         usually "docker".
 */
public record ContainerInfo(
    Map<String, String> config,
    String containerId,
    String containerName,
    String containerEntrypoint,
    List<String> containerArgs,
    String containerImageId,
    String containerImageName,
    String containerCreated,
    List<String> containerEnv,
    Map<String, String> containerLabels,
    String logPath,
    String daemonName) {

    public ContainerInfo {
        config = freeze(config);
        containerId = orEmpty(containerId);
        containerName = orEmpty(containerName);
        containerEntrypoint = orEmpty(containerEntrypoint);
        containerArgs = freeze(containerArgs);
        containerImageId = orEmpty(containerImageId);
        containerImageName = orEmpty(containerImageName);
        containerCreated = orEmpty(containerCreated);
        containerEnv = freeze(containerEnv);
        containerLabels = freeze(containerLabels);
        logPath = orEmpty(logPath);
        daemonName = orEmpty(daemonName);
    }

    /** @return the first 12 characters of the container id. */
    public String id() {
        return prefix(containerId, 12);
    }

    /** @return the whole container id. */
    public String fullId() {
        return containerId;
    }

    /** @return the container name without dockerd's leading '/'. */
    public String name() {
        return containerName.startsWith("/") ? containerName.substring(1) : containerName;
    }

    /** @return the first 12 characters of the image id (in Docker 20.10: {@code sha256:xxxxx}). */
    public String imageId() {
        return prefix(containerImageId, 12);
    }

    /** @return the whole image id. */
    public String imageFullId() {
        return containerImageId;
    }

    /** @return the image name as the user typed it. */
    public String imageName() {
        return containerImageName;
    }

    /** @return the entrypoint and the arguments joined by spaces, as Docker's {@code Info.Command()}. */
    public String command() {
        final List<String> terms = new ArrayList<>();
        terms.add(containerEntrypoint);
        terms.addAll(containerArgs);
        return String.join(" ", terms);
    }

    /** @return the container's environment as a map: entries split at the first '=', entries without '=' left out. */
    public Map<String, String> envMap() {
        final Map<String, String> env = new LinkedHashMap<>();
        for (final String e : containerEnv) {
            final int eq = e.indexOf('=');
            if (eq >= 0) {
                env.put(e.substring(0, eq), e.substring(eq + 1));
            }
        }
        return env;
    }

    private static String prefix(final String s, final int n) {
        return s.length() <= n ? s : s.substring(0, n);
    }

    private static String orEmpty(final String s) {
        return null == s ? "" : s;
    }

    private static <T> List<T> freeze(final List<T> list) {
        return null == list ? List.of() : Collections.unmodifiableList(new ArrayList<>(list));
    }

    private static <K, V> Map<K, V> freeze(final Map<K, V> map) {
        return null == map ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
