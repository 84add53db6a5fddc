package dev.natslog.core.template;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The functions of Docker's log tag markup ({@code daemon/logger/templates}: {@code json split join title lower
 * upper pad truncate}) and the Go builtins tags use ({@code index len print printf}).
 */
final class TemplateFunctions {
    private static final List<String> NAMES =
        List.of("index", "json", "join", "len", "lower", "pad", "print", "printf", "split", "title", "truncate", "upper");

    private TemplateFunctions() {
    }

    static boolean exists(final String name) {
        return NAMES.contains(name);
    }

    static String names() {
        return String.join(" ", NAMES);
    }

    static Object call(final String name, final List<Object> args, final Function<String, TagTemplateException> error) {
        final Args a = new Args(name, args, error);
        return switch (name) {
            case "index" -> index(a);
            case "json" -> {
                a.count(1);
                yield json(args.get(0));
            }
            case "join" -> {
                a.count(2);
                yield String.join(a.string(1), a.list(0));
            }
            case "len" -> {
                a.count(1);
                yield len(a, args.get(0));
            }
            case "lower" -> {
                a.count(1);
                yield a.string(0).toLowerCase(Locale.ROOT);
            }
            case "upper" -> {
                a.count(1);
                yield a.string(0).toUpperCase(Locale.ROOT);
            }
            case "title" -> {
                a.count(1);
                yield title(a.string(0));
            }
            case "pad" -> {
                a.count(3);
                final String s = a.string(0);
                yield s.isEmpty() ? s : " ".repeat(a.nonNegative(1)) + s + " ".repeat(a.nonNegative(2));
            }
            case "truncate" -> {
                a.count(2);
                final String s = a.string(0);
                final int n = a.nonNegative(1);
                yield s.codePointCount(0, s.length()) <= n ? s : s.substring(0, s.offsetByCodePoints(0, n));
            }
            case "split" -> {
                a.count(2);
                yield split(a.string(0), a.string(1));
            }
            case "print" -> print(args);
            case "printf" -> printf(a);
            default -> throw error.apply("function \"" + name + "\" not defined");
        };
    }

    private static Object index(final Args a) {
        if (a.args.isEmpty()) {
            throw a.fail("wrong number of args: want at least 1, got 0");
        }
        Object value = a.args.get(0);
        for (int i = 1; i < a.args.size(); i++) {
            final Object key = a.args.get(i);
            if (value instanceof Map<?, ?> m) {
                if (!(key instanceof String)) {
                    throw a.fail("map key must be a string, got " + TemplateEvaluator.print(key));
                }
                final Object v = m.get(key);
                value = null == v ? "" : v; // Go: the zero value for a missing key
            } else if (value instanceof List<?> l) {
                if (!(key instanceof Long n)) {
                    throw a.fail("list index must be an integer, got " + TemplateEvaluator.print(key));
                }
                if (n < 0 || n >= l.size()) {
                    throw a.fail("index out of range: " + n);
                }
                value = l.get(n.intValue());
            } else {
                throw a.fail("can't index item of type " + typeName(value));
            }
        }
        return value;
    }

    private static Object len(final Args a, final Object v) {
        if (v instanceof String s) {
            return (long) s.getBytes(StandardCharsets.UTF_8).length;
        }
        if (v instanceof List<?> l) {
            return (long) l.size();
        }
        if (v instanceof Map<?, ?> m) {
            return (long) m.size();
        }
        throw a.fail("len of type " + typeName(v));
    }

    private static List<String> split(final String s, final String sep) {
        if (sep.isEmpty()) {
            return s.codePoints().mapToObj(Character::toString).toList();
        }
        return Arrays.asList(s.split(Pattern.quote(sep), -1));
    }

    /** Go's {@code strings.Title}: upper-cases the first letter of each word. */
    private static String title(final String s) {
        final StringBuilder out = new StringBuilder(s.length());
        int prev = ' ';
        for (int i = 0; i < s.length(); ) {
            final int cp = s.codePointAt(i);
            out.appendCodePoint(isSeparator(prev) ? Character.toTitleCase(cp) : cp);
            prev = cp;
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    private static boolean isSeparator(final int cp) {
        if (cp <= 0x7F) {
            return !(Character.isLetterOrDigit(cp) || cp == '_');
        }
        if (Character.isLetterOrDigit(cp)) {
            return false;
        }
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp);
    }

    /** Go's {@code fmt.Sprint}: a space between operands when neither is a string. */
    private static String print(final List<Object> args) {
        final StringBuilder s = new StringBuilder();
        for (int i = 0; i < args.size(); i++) {
            if (i > 0 && !(args.get(i) instanceof String) && !(args.get(i - 1) instanceof String)) {
                s.append(' ');
            }
            s.append(TemplateEvaluator.print(args.get(i)));
        }
        return s.toString();
    }

    /** Go's {@code fmt.Sprintf} for the verbs a tag needs: %s %v %d %q %%. */
    private static String printf(final Args a) {
        if (a.args.isEmpty()) {
            throw a.fail("wrong number of args: want at least 1, got 0");
        }
        final String format = a.string(0);
        final StringBuilder out = new StringBuilder();
        int arg = 1;
        for (int i = 0; i < format.length(); i++) {
            final char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (++i >= format.length()) {
                throw a.fail("format \"" + format + "\" ends with %");
            }
            final char verb = format.charAt(i);
            if (verb == '%') {
                out.append('%');
                continue;
            }
            if (arg >= a.args.size()) {
                throw a.fail("format \"" + format + "\" needs more arguments than the " + (a.args.size() - 1) + " given");
            }
            final Object v = a.args.get(arg++);
            switch (verb) {
                case 's', 'v' -> out.append(TemplateEvaluator.print(v));
                case 'd' -> {
                    if (!(v instanceof Long)) {
                        throw a.fail("%d needs an integer, got " + TemplateEvaluator.print(v));
                    }
                    out.append(v);
                }
                case 'q' -> out.append(json(TemplateEvaluator.print(v)));
                default -> throw a.fail("format verb %" + verb + " is not supported (use %s %v %d %q)");
            }
        }
        if (arg < a.args.size()) {
            throw a.fail("format \"" + format + "\" uses fewer arguments than the " + (a.args.size() - 1) + " given");
        }
        return out.toString();
    }

    /** Docker's {@code json}: Go's encoding/json without HTML escaping; map keys sorted. */
    static String json(final Object v) {
        final StringBuilder s = new StringBuilder();
        json(v, s);
        return s.toString();
    }

    private static void json(final Object v, final StringBuilder s) {
        if (null == v || v == TemplateEvaluator.NO_VALUE) {
            s.append("null");
        } else if (v instanceof String str) {
            s.append('"');
            for (int i = 0; i < str.length(); i++) {
                final char c = str.charAt(i);
                switch (c) {
                    case '"' -> s.append("\\\"");
                    case '\\' -> s.append("\\\\");
                    case '\n' -> s.append("\\n");
                    case '\r' -> s.append("\\r");
                    case '\t' -> s.append("\\t");
                    case '\u2028' -> s.append("\\u2028");
                    case '\u2029' -> s.append("\\u2029");
                    default -> {
                        if (c < 0x20) {
                            s.append(String.format("\\u%04x", (int) c));
                        } else {
                            s.append(c);
                        }
                    }
                }
            }
            s.append('"');
        } else if (v instanceof List<?> l) {
            s.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    s.append(',');
                }
                json(l.get(i), s);
            }
            s.append(']');
        } else if (v instanceof Map<?, ?> m) {
            s.append('{');
            boolean first = true;
            for (final Map.Entry<?, ?> e : new TreeMap<>(m).entrySet()) {
                if (!first) {
                    s.append(',');
                }
                first = false;
                json(String.valueOf(e.getKey()), s);
                s.append(':');
                json(e.getValue(), s);
            }
            s.append('}');
        } else {
            s.append(v); // Long, Boolean
        }
    }

    private static String typeName(final Object v) {
        if (null == v) {
            return "nil";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof List<?>) {
            return "[]string";
        }
        if (v instanceof Map<?, ?>) {
            return "map[string]string";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        return "unknown";
    }

    /** Argument checks for one call; messages name the function. */
    private record Args(String name, List<Object> args, Function<String, TagTemplateException> error) {
        void count(final int n) {
            if (args.size() != n) {
                throw fail("wrong number of args: want " + n + ", got " + args.size());
            }
        }

        String string(final int i) {
            if (args.get(i) instanceof String s) {
                return s;
            }
            throw fail("argument " + (i + 1) + " must be a string, got " + typeName(args.get(i)));
        }

        List<String> list(final int i) {
            if (args.get(i) instanceof List<?> l) {
                final List<String> out = new ArrayList<>();
                for (final Object o : l) {
                    out.add(TemplateEvaluator.print(o));
                }
                return out;
            }
            throw fail("argument " + (i + 1) + " must be a list, got " + typeName(args.get(i)));
        }

        int nonNegative(final int i) {
            if (args.get(i) instanceof Long n && n >= 0 && n <= 4096) {
                return n.intValue();
            }
            throw fail("argument " + (i + 1) + " must be an integer from 0 to 4096, got "
                + TemplateEvaluator.print(args.get(i)));
        }

        TagTemplateException fail(final String problem) {
            return error.apply("error calling " + name + ": " + problem);
        }
    }
}
