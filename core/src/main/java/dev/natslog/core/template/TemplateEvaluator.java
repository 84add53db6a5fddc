package dev.natslog.core.template;

import dev.natslog.core.docker.ContainerInfo;
import dev.natslog.core.template.TemplateNode.Action;
import dev.natslog.core.template.TemplateNode.Command;
import dev.natslog.core.template.TemplateNode.Field;
import dev.natslog.core.template.TemplateNode.Function;
import dev.natslog.core.template.TemplateNode.Group;
import dev.natslog.core.template.TemplateNode.Literal;
import dev.natslog.core.template.TemplateNode.Operand;
import dev.natslog.core.template.TemplateNode.Pipeline;
import dev.natslog.core.template.TemplateNode.Text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Renders a parsed tag template against one container. Values are String, List, Map, Long or Boolean. */
final class TemplateEvaluator {
    /** What Go prints for a missing map key reached by field syntax. */
    static final Object NO_VALUE = new Object() {
        @Override
        public String toString() {
            return "<no value>";
        }
    };

    private static final Set<String> ROOT_FIELDS = Set.of(
        "ID", "FullID", "Name", "ImageID", "ImageFullID", "ImageName", "DaemonName", "Hostname", "Command",
        "Config", "ContainerID", "ContainerName", "ContainerEntrypoint", "ContainerArgs", "ContainerImageID",
        "ContainerImageName", "ContainerCreated", "ContainerEnv", "ContainerLabels", "LogPath");

    private final String template;
    private final ContainerInfo info;
    private final String hostname;

    TemplateEvaluator(final String template, final ContainerInfo info, final String hostname) {
        this.template = template;
        this.info = info;
        this.hostname = hostname;
    }

    static void checkRootField(final String name,
                               final java.util.function.Function<String, TagTemplateException> error) {
        if (!ROOT_FIELDS.contains(name)) {
            throw error.apply("can't evaluate field " + name + " of the container (known: "
                + String.join(", ", ROOT_FIELDS.stream().sorted().toList()) + ")");
        }
    }

    void write(final TemplateNode node, final StringBuilder out) {
        if (node instanceof Text t) {
            out.append(t.text());
        } else if (node instanceof Action a) {
            out.append(print(eval(a.pipeline())));
        }
    }

    private Object eval(final Pipeline pipeline) {
        Object value = null;
        boolean piped = false;
        for (final Command command : pipeline.commands()) {
            value = eval(command, piped, value);
            piped = true;
        }
        return value;
    }

    private Object eval(final Command command, final boolean piped, final Object input) {
        final List<Operand> operands = command.operands();
        if (operands.get(0) instanceof Function f) {
            final List<Object> args = new ArrayList<>();
            for (int i = 1; i < operands.size(); i++) {
                args.add(eval(operands.get(i)));
            }
            if (piped) {
                args.add(input);
            }
            return TemplateFunctions.call(f.name(), args, this::error);
        }
        if (piped) {
            throw error("can't give argument to non-function");
        }
        return eval(operands.get(0));
    }

    private Object eval(final Operand operand) {
        if (operand instanceof Literal l) {
            return l.value();
        }
        if (operand instanceof Group g) {
            return eval(g.pipeline());
        }
        if (operand instanceof Field f) {
            return field(f.path());
        }
        throw error("function " + ((Function) operand).name() + " used as a value");
    }

    private Object field(final List<String> path) {
        if (path.isEmpty()) {
            throw error("\".\" (the whole container) cannot be printed in a log tag; name a field");
        }
        Object value = root(path.get(0));
        for (int i = 1; i < path.size(); i++) {
            if (value instanceof Map<?, ?> m) {
                final Object v = m.get(path.get(i));
                value = null == v && !m.containsKey(path.get(i)) ? NO_VALUE : v;
            } else {
                throw error("can't evaluate field " + path.get(i) + " in " + String.join(".", path.subList(0, i))
                    + " (not a map)");
            }
        }
        return value;
    }

    private Object root(final String name) {
        return switch (name) {
            case "ID" -> info.id();
            case "FullID" -> info.fullId();
            case "Name" -> info.name();
            case "ImageID" -> info.imageId();
            case "ImageFullID" -> info.imageFullId();
            case "ImageName" -> info.imageName();
            case "DaemonName" -> info.daemonName();
            case "Hostname" -> hostname;
            case "Command" -> info.command();
            case "Config" -> info.config();
            case "ContainerID" -> info.containerId();
            case "ContainerName" -> info.containerName();
            case "ContainerEntrypoint" -> info.containerEntrypoint();
            case "ContainerArgs" -> info.containerArgs();
            case "ContainerImageID" -> info.containerImageId();
            case "ContainerImageName" -> info.containerImageName();
            case "ContainerCreated" -> info.containerCreated();
            case "ContainerEnv" -> info.containerEnv();
            case "ContainerLabels" -> info.containerLabels();
            case "LogPath" -> info.logPath();
            default -> throw error("can't evaluate field " + name);
        };
    }

    /** Go's {@code fmt.Sprint} of one value. */
    static String print(final Object value) {
        if (null == value) {
            return "<nil>";
        }
        if (value instanceof List<?> list) {
            final StringBuilder s = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                s.append(i > 0 ? " " : "").append(print(list.get(i)));
            }
            return s.append(']').toString();
        }
        if (value instanceof Map<?, ?> map) {
            final StringBuilder s = new StringBuilder("map[");
            boolean first = true;
            for (final Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
                s.append(first ? "" : " ").append(print(e.getKey())).append(':').append(print(e.getValue()));
                first = false;
            }
            return s.append(']').toString();
        }
        return value.toString();
    }

    private TagTemplateException error(final String problem) {
        return new TagTemplateException(template, problem);
    }
}
