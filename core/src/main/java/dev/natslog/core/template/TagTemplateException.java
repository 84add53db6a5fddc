package dev.natslog.core.template;

/** A log tag template that does not parse or cannot be rendered; the message names the template. */
public final class TagTemplateException extends IllegalArgumentException {
    private final String template;
    private final String problem;

    TagTemplateException(final String template, final String problem) {
        super("tag template \"" + template + "\": " + problem);
        this.template = template;
        this.problem = problem;
    }

    /** @return the template text. */
    public String template() {
        return template;
    }

    /** @return what is wrong, without the template. */
    public String problem() {
        return problem;
    }
}
