package dev.natslog.core.template;

import dev.natslog.core.docker.ContainerInfo;

import java.util.List;

/**
 * Docker's log tag markup: the subset of Go's {@code text/template} that every Docker logging driver understands
 * for {@code --log-opt tag=…}.
 *
 * <ul>
 *   <li>Fields of the container: {@code {{.ID}}} (first 12 of the id), {@code {{.FullID}}}, {@code {{.Name}}}
 *   (no leading '/'), {@code {{.ImageID}}} (first 12 characters), {@code {{.ImageFullID}}},
 *   {@code {{.ImageName}}}, {@code {{.DaemonName}}}, {@code {{.Hostname}}}, {@code {{.Command}}}, and the raw
 *   info fields ({@code .ContainerID}, {@code .ContainerName}, {@code .ContainerLabels}, {@code .ContainerEnv},
 *   {@code .ContainerArgs}, {@code .Config}, …); map keys by field ({@code .ContainerLabels.app}) or
 *   {@code {{index .ContainerLabels "com.x.y"}}}.</li>
 *   <li>Pipelines ({@code {{.Name | upper}}}), parentheses, string, raw-string, number and boolean literals,
 *   {@code {{- trim -}}} markers and {@code {{/* comments *}{@code /}}}.</li>
 *   <li>Functions: Docker's {@code json split join title lower upper pad truncate} and Go's
 *   {@code index len print printf}.</li>
 * </ul>
 * Control structures ({@code if}, {@code range}, …) and variables are not part of Docker's tag markup and are
 * refused. A syntax error, an unknown field or function, or a wrong argument is a {@link TagTemplateException}
 * naming the template. Empty or missing {@code tag} means {@link #DEFAULT}.
 *
 * <p>Rendered once per container, at stream start; nothing here is on the per-line path.
 */
public final class TagTemplate {
    /** What an empty or missing {@code tag} means. */
    public static final String DEFAULT = "{{.ID}}";

    private final String source;
    private final List<TemplateNode> nodes;

    private TagTemplate(final String source, final List<TemplateNode> nodes) {
        this.source = source;
        this.nodes = nodes;
    }

    /**
     * @param template the markup; null or empty means {@link #DEFAULT}.
     * @return the parsed template.
     * @throws TagTemplateException on a syntax error or an unknown field or function.
     */
    public static TagTemplate parse(final String template) {
        final String text = null == template || template.isEmpty() ? DEFAULT : template;
        return new TagTemplate(text, new TemplateParser(text).parse());
    }

    /**
     * @param info     the container.
     * @param hostname the host's name, for {@code {{.Hostname}}}.
     * @return the rendered tag.
     * @throws TagTemplateException when a function gets a value it cannot take.
     */
    public String render(final ContainerInfo info, final String hostname) {
        final StringBuilder out = new StringBuilder();
        final TemplateEvaluator evaluator = new TemplateEvaluator(source, info, hostname);
        for (final TemplateNode node : nodes) {
            evaluator.write(node, out);
        }
        return out.toString();
    }

    /** @return the template text. */
    public String source() {
        return source;
    }

    @Override
    public String toString() {
        return source;
    }
}
