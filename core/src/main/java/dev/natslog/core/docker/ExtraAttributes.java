package dev.natslog.core.docker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The extra attributes every Docker driver adds to its messages (moby's {@code Info.ExtraAttributes}): from
 * {@code labels}, {@code labels-regex}, {@code env}, {@code env-regex}, in that order, later keys overwriting
 * earlier ones. Regexes match anywhere in the key ({@code find}, as Go's {@code MatchString}). Keys matched by a
 * regex are added in sorted order, so events are the same from run to run.
 */
public final class ExtraAttributes {
    private ExtraAttributes() {
    }

    /**
     * @param info        the container.
     * @param labels      label keys to copy.
     * @param labelsRegex pattern over label keys, or null.
     * @param env         env names to copy.
     * @param envRegex    pattern over env names, or null.
     * @return the attributes, in insertion order.
     */
    public static Map<String, String> of(final ContainerInfo info, final List<String> labels, final Pattern labelsRegex,
                                         final List<String> env, final Pattern envRegex) {
        final Map<String, String> extra = new LinkedHashMap<>();
        final Map<String, String> containerLabels = info.containerLabels();
        for (final String key : labels) {
            if (containerLabels.containsKey(key)) {
                extra.put(key, nullToEmpty(containerLabels.get(key)));
            }
        }
        if (null != labelsRegex) {
            new TreeMap<>(containerLabels).forEach((k, v) -> {
                if (labelsRegex.matcher(k).find()) {
                    extra.put(k, nullToEmpty(v));
                }
            });
        }
        final Map<String, String> containerEnv = info.envMap();
        for (final String key : env) {
            if (containerEnv.containsKey(key)) {
                extra.put(key, containerEnv.get(key));
            }
        }
        if (null != envRegex) {
            new TreeMap<>(containerEnv).forEach((k, v) -> {
                if (envRegex.matcher(k).find()) {
                    extra.put(k, v);
                }
            });
        }
        return extra;
    }

    private static String nullToEmpty(final String s) {
        return null == s ? "" : s;
    }
}
