package dev.natslog.core.config;

import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.docker.ExtraAttributes;
import dev.natslog.core.event.JsonEventEncoder;
import dev.natslog.core.template.TagTemplateException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one container's stream needs, worked out once at StartLogging: the rendered tag, the subject, the
 * rendered per-container part of every event, and the connection settings.
 *
 * @param tag         the rendered tag.
 * @param subject     the NATS subject of every event.
 * @param eventPrefix the JSON every event starts with ({@link JsonEventEncoder#renderPrefix(Map)}).
 * @param connection  the NATS connection settings.
 * @param bufferSize  the most event bytes the container may have waiting for NATS; 0: no bound of its own.
 */
public record StreamSettings(String tag, String subject, byte[] eventPrefix, ConnectionSettings connection,
                             long bufferSize) {
    /**
     * @param info     the container, from StartLogging.
     * @param options  its parsed {@code --log-opt}s.
     * @param hostname the host's name ({@code hostname} field and {@code {{.Hostname}}}).
     * @return the settings.
     * @throws OptionException when the tag cannot be rendered or the subject is not valid.
     */
    public static StreamSettings resolve(final ContainerInfo info, final LogOptions options, final String hostname) {
        final String tag;
        try {
            tag = options.tag().render(info, hostname);
        } catch (final TagTemplateException e) {
            throw new OptionException(LogOptions.KEY_TAG,
                "nats: log-opt tag='" + e.template() + "' is invalid: " + e.problem());
        }
        final String subject = options.subjectFor(tag);
        final Map<String, String> fields = new LinkedHashMap<>();
        fields.put("container_id", info.fullId());
        fields.put("container_name", info.name());
        fields.put("image_id", info.imageFullId());
        fields.put("image_name", info.imageName());
        fields.put("hostname", hostname);
        fields.put("tag", tag);
        fields.putAll(ExtraAttributes.of(info, options.labels(), options.labelsRegex(), options.env(), options.envRegex()));
        return new StreamSettings(tag, subject, JsonEventEncoder.renderPrefix(fields), options.connection(),
            options.bufferSize());
    }
}
