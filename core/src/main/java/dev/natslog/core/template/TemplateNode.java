package dev.natslog.core.template;

import java.util.List;

/** The parsed form of a tag template: text and actions; an action is a pipeline of commands of operands. */
sealed interface TemplateNode {
    /** Literal text between actions. */
    record Text(String text) implements TemplateNode {
    }

    /** {@code {{ pipeline }}}. */
    record Action(Pipeline pipeline) implements TemplateNode {
    }

    /** {@code command | command | …}: each command's value is the last argument of the next. */
    record Pipeline(List<Command> commands) {
    }

    /** A function call with arguments, or a single operand. */
    record Command(List<Operand> operands) {
    }

    /** One term of a command. */
    sealed interface Operand {
    }

    /** {@code .A.B}: a field of the container, then keys of a map. An empty path is {@code .} itself. */
    record Field(List<String> path) implements Operand {
    }

    /** A string, number or boolean literal. */
    record Literal(Object value) implements Operand {
    }

    /** The name of a function. */
    record Function(String name) implements Operand {
    }

    /** {@code ( pipeline )}. */
    record Group(Pipeline pipeline) implements Operand {
    }
}
