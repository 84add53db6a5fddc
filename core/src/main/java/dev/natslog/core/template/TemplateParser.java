package dev.natslog.core.template;

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
import java.util.Set;

/** Parses Go text/template markup, as far as Docker's log tags use it (see {@link TagTemplate}). */
final class TemplateParser {
    private static final Set<String> KEYWORDS =
        Set.of("if", "else", "end", "range", "with", "define", "template", "block", "break", "continue");

    private final String src;
    private int pos;

    TemplateParser(final String src) {
        this.src = src;
    }

    List<TemplateNode> parse() {
        final List<TemplateNode> nodes = new ArrayList<>();
        boolean trimNextText = false;
        while (pos < src.length()) {
            final int open = src.indexOf("{{", pos);
            String text = src.substring(pos, open < 0 ? src.length() : open);
            if (trimNextText) {
                text = text.stripLeading();
            }
            if (open < 0) {
                addText(nodes, text);
                break;
            }
            pos = open + 2;
            final boolean trimLeft = src.startsWith("- ", pos) || src.startsWith("-\t", pos) || src.startsWith("-\n", pos);
            if (trimLeft) {
                text = text.stripTrailing();
                pos += 2;
            }
            addText(nodes, text);
            skipSpace();
            if (src.startsWith("/*", pos)) {
                final int close = src.indexOf("*/", pos + 2);
                if (close < 0) {
                    throw error("unclosed comment");
                }
                pos = close + 2;
                skipSpace();
            } else {
                final Pipeline pipeline = pipeline(false);
                nodes.add(new Action(pipeline));
            }
            trimNextText = src.startsWith("-}}", pos) && pos > 0 && Character.isWhitespace(src.charAt(pos - 1));
            if (trimNextText) {
                pos++;
            }
            if (!src.startsWith("}}", pos)) {
                throw error(pos >= src.length() ? "unclosed action: missing }}" : "unexpected \"" + rest() + "\" in action");
            }
            pos += 2;
        }
        return List.copyOf(nodes);
    }

    private static void addText(final List<TemplateNode> nodes, final String text) {
        if (!text.isEmpty()) {
            nodes.add(new Text(text));
        }
    }

    private Pipeline pipeline(final boolean inGroup) {
        final List<Command> commands = new ArrayList<>();
        while (true) {
            final List<Operand> operands = new ArrayList<>();
            while (true) {
                skipSpace();
                if (pos >= src.length() || atActionEnd() || peek() == '|' || peek() == ')') {
                    break;
                }
                operands.add(operand());
            }
            if (operands.isEmpty()) {
                throw error(commands.isEmpty() ? "missing value in action" : "missing command after |");
            }
            if (operands.size() > 1 && !(operands.get(0) instanceof Function)) {
                throw error("can't give argument to non-function " + describe(operands.get(0)));
            }
            commands.add(new Command(List.copyOf(operands)));
            if (pos < src.length() && peek() == '|') {
                pos++;
                continue;
            }
            break;
        }
        if (inGroup) {
            if (pos >= src.length() || peek() != ')') {
                throw error("unclosed left paren");
            }
            pos++;
        } else if (pos < src.length() && peek() == ')') {
            throw error("unexpected right paren");
        }
        return new Pipeline(List.copyOf(commands));
    }

    private Operand operand() {
        final char c = peek();
        if (c == '(') {
            pos++;
            return new Group(pipeline(true));
        }
        if (c == '.') {
            return field();
        }
        if (c == '"') {
            return new Literal(quoted());
        }
        if (c == '`') {
            final int close = src.indexOf('`', pos + 1);
            if (close < 0) {
                throw error("unterminated raw quoted string");
            }
            final String s = src.substring(pos + 1, close);
            pos = close + 1;
            return new Literal(s);
        }
        if (c == '-' || c == '+' || Character.isDigit(c)) {
            return number();
        }
        if (c == '$') {
            throw error("variables ($…) are not supported in a log tag");
        }
        if (Character.isLetter(c) || c == '_') {
            final String word = identifier();
            if (pos < src.length() && peek() == '.') {
                throw error("unexpected . after term \"" + word + "\"");
            }
            switch (word) {
                case "true" -> {
                    return new Literal(Boolean.TRUE);
                }
                case "false" -> {
                    return new Literal(Boolean.FALSE);
                }
                case "nil" -> throw error("nil is not a command");
                default -> {
                    if (KEYWORDS.contains(word)) {
                        throw error("\"" + word + "\" is not supported in a log tag (no control structures)");
                    }
                    if (!TemplateFunctions.exists(word)) {
                        throw error("function \"" + word + "\" not defined (known: " + TemplateFunctions.names() + ")");
                    }
                    return new Function(word);
                }
            }
        }
        throw error("unexpected \"" + c + "\" in action");
    }

    private Operand field() {
        final List<String> path = new ArrayList<>();
        pos++; // '.'
        if (pos < src.length() && (Character.isLetter(peek()) || peek() == '_')) {
            path.add(identifier());
            while (pos < src.length() && peek() == '.') {
                pos++;
                if (pos >= src.length() || !(Character.isLetterOrDigit(peek()) || peek() == '_')) {
                    throw error("bad field name after \".\"");
                }
                path.add(identifier());
            }
        }
        if (!path.isEmpty()) {
            TemplateEvaluator.checkRootField(path.get(0), this::error);
        }
        return new Field(List.copyOf(path));
    }

    private String identifier() {
        final int start = pos;
        while (pos < src.length() && (Character.isLetterOrDigit(peek()) || peek() == '_')) {
            pos++;
        }
        return src.substring(start, pos);
    }

    private Operand number() {
        final int start = pos;
        if (peek() == '-' || peek() == '+') {
            pos++;
        }
        while (pos < src.length() && Character.isLetterOrDigit(peek())) {
            pos++;
        }
        final String n = src.substring(start, pos);
        try {
            return new Literal(Long.parseLong(n.startsWith("+") ? n.substring(1) : n));
        } catch (final NumberFormatException e) {
            throw error("bad number syntax: \"" + n + "\" (only decimal integers)");
        }
    }

    private String quoted() {
        final StringBuilder s = new StringBuilder();
        pos++; // opening quote
        while (true) {
            if (pos >= src.length() || peek() == '\n') {
                throw error("unterminated quoted string");
            }
            final char c = src.charAt(pos++);
            if (c == '"') {
                return s.toString();
            }
            if (c != '\\') {
                s.append(c);
                continue;
            }
            if (pos >= src.length()) {
                throw error("unterminated quoted string");
            }
            final char e = src.charAt(pos++);
            switch (e) {
                case '\\', '"', '\'' -> s.append(e);
                case 'n' -> s.append('\n');
                case 't' -> s.append('\t');
                case 'r' -> s.append('\r');
                case 'a' -> s.append('\u0007');
                case 'b' -> s.append('\b');
                case 'f' -> s.append('\f');
                case 'v' -> s.append('\u000b');
                case 'x' -> s.appendCodePoint(hex(2));
                case 'u' -> s.appendCodePoint(hex(4));
                case 'U' -> s.appendCodePoint(hex(8));
                default -> throw error("unknown escape sequence \\" + e + " in quoted string");
            }
        }
    }

    private int hex(final int digits) {
        if (pos + digits > src.length()) {
            throw error("unterminated escape sequence in quoted string");
        }
        try {
            final int cp = Integer.parseInt(src.substring(pos, pos + digits), 16);
            pos += digits;
            if (!Character.isValidCodePoint(cp)) {
                throw error("escape sequence is an invalid Unicode code point");
            }
            return cp;
        } catch (final NumberFormatException e) {
            throw error("bad hex escape in quoted string");
        }
    }

    private boolean atActionEnd() {
        return src.startsWith("}}", pos) || (src.startsWith("-}}", pos) && pos > 0 && Character.isWhitespace(src.charAt(pos - 1)));
    }

    private void skipSpace() {
        while (pos < src.length() && Character.isWhitespace(peek())) {
            pos++;
        }
    }

    private char peek() {
        return src.charAt(pos);
    }

    private String rest() {
        final int end = Math.min(src.length(), pos + 10);
        return src.substring(pos, end);
    }

    private static String describe(final Operand o) {
        if (o instanceof Field f) {
            return "." + String.join(".", f.path());
        }
        if (o instanceof Literal l) {
            return String.valueOf(l.value());
        }
        return "(pipeline)";
    }

    TagTemplateException error(final String problem) {
        return new TagTemplateException(src, problem);
    }
}
