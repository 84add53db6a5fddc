package dev.natslog.core.config;

import dev.natslog.core.template.TagTemplate;
import dev.natslog.core.template.TagTemplateException;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A container's {@code --log-opt} map, parsed and validated up front into one immutable value.
 *
 * <p>To add an option: a {@code KEY_*} constant (and a {@code DEFAULT_*} if it has one), a field and its getter,
 * one line in {@link #parse(Map)}, a row in {@link #KNOWN_KEYS}, its tests in {@code LogOptionsTest}, and its row in
 * README.md's options table.
 *
 * <p>Rules: Docker's own keys ({@code mode}, {@code max-buffer-size}, {@code cache-*}) are accepted and
 * ignored; an unknown {@code nats-*} key is an error (typo guard); other unknown keys are ignored. Every error
 * names the option and the bad value and says what is expected — except for secrets ({@code nats-pass},
 * {@code nats-token}), whose values are never shown.
 */
public final class LogOptions {
    public static final String KEY_LABELS = "labels";
    public static final String KEY_LABELS_REGEX = "labels-regex";
    public static final String KEY_ENV = "env";
    public static final String KEY_ENV_REGEX = "env-regex";
    public static final String KEY_TAG = "tag";
    public static final String KEY_SERVERS = "nats-servers";
    public static final String KEY_MAX_RECONNECT = "nats-max-reconnect";
    public static final String KEY_SUBJECT = "nats-subject";
    /**
     * Longest subject, in UTF-8 bytes: a {@code PUB} line (subject, size, CRLF) must stay within the server's
     * default {@code max_control_line} of 4 KiB, or the server closes the connection.
     */
    public static final int MAX_SUBJECT_BYTES = 4000;
    public static final String KEY_USER = "nats-user";
    public static final String KEY_PASS = "nats-pass";
    public static final String KEY_TOKEN = "nats-token";
    public static final String KEY_TLS_CA_CERT = "nats-tls-ca-cert";
    public static final String KEY_TLS_CERT = "nats-tls-cert";
    public static final String KEY_TLS_KEY = "nats-tls-key";
    public static final String KEY_TLS_SKIP_VERIFY = "nats-tls-skip-verify";
    public static final String KEY_BUFFER_SIZE = "nats-buffer-size";

    /** Server used when {@code nats-servers} is not given. */
    public static final String DEFAULT_SERVER = "nats://localhost:4222";
    /** Reconnect attempts when {@code nats-max-reconnect} is not given: forever. */
    public static final int DEFAULT_MAX_RECONNECT = -1;
    /** The smallest {@code nats-buffer-size}. */
    public static final long MIN_BUFFER_SIZE = 64 * 1024;
    /** NATS's port when a server names none. */
    public static final int DEFAULT_PORT = 4222;

    /** Every {@code nats-*} key this plugin knows; any other {@code nats-*} key is refused. */
    public static final Set<String> KNOWN_KEYS = Set.of(KEY_LABELS, KEY_LABELS_REGEX, KEY_ENV, KEY_ENV_REGEX, KEY_TAG,
        KEY_SERVERS, KEY_MAX_RECONNECT, KEY_SUBJECT, KEY_USER, KEY_PASS, KEY_TOKEN, KEY_TLS_CA_CERT, KEY_TLS_CERT,
        KEY_TLS_KEY, KEY_TLS_SKIP_VERIFY, KEY_BUFFER_SIZE);
    private static final Set<String> SECRET_KEYS = Set.of(KEY_PASS, KEY_TOKEN);
    private static final String NATS_PREFIX = "nats-";

    private final List<String> labels;
    private final Pattern labelsRegex;
    private final List<String> env;
    private final Pattern envRegex;
    private final TagTemplate tag;
    private final String subject;
    private final ConnectionSettings connection;
    private final long bufferSize;

    private LogOptions(final List<String> labels, final Pattern labelsRegex, final List<String> env,
                       final Pattern envRegex, final TagTemplate tag, final String subject,
                       final ConnectionSettings connection, final long bufferSize) {
        this.labels = labels;
        this.labelsRegex = labelsRegex;
        this.env = env;
        this.envRegex = envRegex;
        this.tag = tag;
        this.subject = subject;
        this.connection = connection;
        this.bufferSize = bufferSize;
    }

    /** The plugin-wide defaults a plugin setting (environment variable) may give, by option. */
    public static final Map<String, String> DEFAULTS_FROM_ENV = Map.ofEntries(
        Map.entry(KEY_SERVERS, "NATS_SERVERS"), Map.entry(KEY_SUBJECT, "NATS_SUBJECT"),
        Map.entry(KEY_MAX_RECONNECT, "NATS_MAX_RECONNECT"), Map.entry(KEY_USER, "NATS_USER"),
        Map.entry(KEY_PASS, "NATS_PASS"), Map.entry(KEY_TOKEN, "NATS_TOKEN"),
        Map.entry(KEY_TLS_CA_CERT, "NATS_TLS_CA_CERT"), Map.entry(KEY_TLS_CERT, "NATS_TLS_CERT"),
        Map.entry(KEY_TLS_KEY, "NATS_TLS_KEY"), Map.entry(KEY_TLS_SKIP_VERIFY, "NATS_TLS_SKIP_VERIFY"));

    /**
     * @param env the plugin's environment.
     * @return the option defaults it sets (empty values mean unset), by option key.
     */
    public static Map<String, String> defaultsFromEnv(final Map<String, String> env) {
        final Map<String, String> defaults = new java.util.HashMap<>();
        DEFAULTS_FROM_ENV.forEach((key, var) -> {
            final String v = env.get(var);
            if (null != v && !v.isEmpty()) {
                defaults.put(key, v);
            }
        });
        return Map.copyOf(defaults);
    }

    /**
     * @param logOpts  a container's {@code --log-opt} map (dockerd's {@code Info.Config}); null means empty.
     * @param defaults plugin-wide defaults by option key ({@link #defaultsFromEnv}); a {@code --log-opt} wins.
     *                 When {@code nats-user} or {@code nats-token} is given per container, the default credentials
     *                 of the other kind are not used.
     * @return the validated options.
     * @throws OptionException naming the first option that cannot be used (and the plugin setting, when the bad
     *                         value came from one).
     */
    public static LogOptions parse(final Map<String, String> logOpts, final Map<String, String> defaults) {
        final Map<String, String> opts = null == logOpts ? Map.of() : logOpts;
        if (defaults.isEmpty()) {
            return parse(opts);
        }
        final Map<String, String> merged = new java.util.HashMap<>(defaults);
        if (opts.containsKey(KEY_USER) || opts.containsKey(KEY_TOKEN)) {
            merged.remove(KEY_USER);
            merged.remove(KEY_PASS);
            merged.remove(KEY_TOKEN);
        }
        merged.putAll(opts);
        try {
            return parse(merged);
        } catch (final OptionException e) {
            if (!opts.containsKey(e.option()) && defaults.containsKey(e.option())) {
                throw new OptionException(e.option(), e.getMessage().replace("log-opt " + e.option(),
                    "plugin setting " + DEFAULTS_FROM_ENV.get(e.option()) + " (default " + e.option() + ")"));
            }
            throw e;
        }
    }

    /**
     * @param logOpts a container's {@code --log-opt} map (dockerd's {@code Info.Config}); null means empty.
     * @return the validated options.
     * @throws OptionException naming the first option that cannot be used.
     */
    public static LogOptions parse(final Map<String, String> logOpts) {
        final Map<String, String> opts = null == logOpts ? Map.of() : logOpts;
        for (final String key : opts.keySet()) {
            if (key.startsWith(NATS_PREFIX) && !KNOWN_KEYS.contains(key)) {
                throw new OptionException(key, "nats: unknown log-opt '" + key + "'; the nats-* options are: "
                    + String.join(", ", KNOWN_KEYS.stream().filter(k -> k.startsWith(NATS_PREFIX)).sorted().toList()));
            }
        }

        final List<String> labels = list(opts.get(KEY_LABELS));
        final Pattern labelsRegex = regex(KEY_LABELS_REGEX, opts.get(KEY_LABELS_REGEX));
        final List<String> env = list(opts.get(KEY_ENV));
        final Pattern envRegex = regex(KEY_ENV_REGEX, opts.get(KEY_ENV_REGEX));
        final TagTemplate tag = tag(opts.get(KEY_TAG));
        final String subject = emptyToNull(opts.get(KEY_SUBJECT));
        if (null != subject) {
            checkSubject(KEY_SUBJECT, subject, subject);
        }

        final List<String> servers = servers(opts.get(KEY_SERVERS));
        final int maxReconnect = maxReconnect(opts.get(KEY_MAX_RECONNECT));
        final String user = emptyToNull(opts.get(KEY_USER));
        final String password = opts.containsKey(KEY_PASS) ? opts.get(KEY_PASS) : null;
        final String token = emptyToNull(opts.get(KEY_TOKEN));
        if (null != password && null == user) {
            throw new OptionException(KEY_PASS, "nats: log-opt nats-pass needs nats-user as well");
        }
        if (null != token && null != user) {
            throw new OptionException(KEY_TOKEN,
                "nats: log-opt nats-token and nats-user cannot be used together: choose token or user/password authentication");
        }
        if (opts.containsKey(KEY_TOKEN) && null == token) {
            throw new OptionException(KEY_TOKEN, "nats: log-opt nats-token is empty; give the token or leave the option out");
        }
        final Path caCert = file(KEY_TLS_CA_CERT, opts.get(KEY_TLS_CA_CERT));
        final Path cert = file(KEY_TLS_CERT, opts.get(KEY_TLS_CERT));
        final Path key = file(KEY_TLS_KEY, opts.get(KEY_TLS_KEY));
        if ((null == cert) != (null == key)) {
            final String missing = null == cert ? KEY_TLS_CERT : KEY_TLS_KEY;
            throw new OptionException(missing, "nats: log-opts nats-tls-cert and nats-tls-key go together: "
                + missing + " is missing");
        }
        final boolean skipVerify = bool(KEY_TLS_SKIP_VERIFY, opts.get(KEY_TLS_SKIP_VERIFY), opts.containsKey(KEY_TLS_SKIP_VERIFY));
        final boolean tls = null != caCert || null != cert || opts.containsKey(KEY_TLS_SKIP_VERIFY)
            || servers.stream().anyMatch(s -> s.startsWith("tls://"));

        final long bufferSize = bufferSize(opts.get(KEY_BUFFER_SIZE));

        return new LogOptions(labels, labelsRegex, env, envRegex, tag, subject,
            new ConnectionSettings(servers, maxReconnect, user, password, token, tls, caCert, cert, key, skipVerify),
            bufferSize);
    }

    /**
     * The subject events of a container go to: {@code nats-subject} if given, else the rendered tag.
     *
     * @param renderedTag the container's tag, rendered.
     * @return a valid NATS publish subject.
     * @throws OptionException naming {@code tag} when the rendered tag is not a valid subject.
     */
    public String subjectFor(final String renderedTag) {
        if (null != subject) {
            return subject;
        }
        checkSubject(KEY_TAG, tag.source(), renderedTag);
        return renderedTag;
    }

    /** @return label keys to copy into events ({@code labels}, split at commas, not trimmed). */
    public List<String> labels() {
        return labels;
    }

    /** @return the {@code labels-regex} pattern, or null. */
    public Pattern labelsRegex() {
        return labelsRegex;
    }

    /** @return env names to copy into events ({@code env}). */
    public List<String> env() {
        return env;
    }

    /** @return the {@code env-regex} pattern, or null. */
    public Pattern envRegex() {
        return envRegex;
    }

    /** @return the tag template ({@code {{.ID}}} when not given). */
    public TagTemplate tag() {
        return tag;
    }

    /** @return {@code nats-subject}, or null when the subject is the rendered tag. */
    public String subject() {
        return subject;
    }

    /** @return the connection settings; equal settings share one connection. */
    public ConnectionSettings connection() {
        return connection;
    }

    /**
     * @return {@code nats-buffer-size}: the most event bytes this container may have waiting for NATS; 0 when not
     *     given (only the plugin-wide bound applies).
     */
    public long bufferSize() {
        return bufferSize;
    }

    private static long bufferSize(final String value) {
        if (null == value || value.isEmpty()) {
            return 0;
        }
        final long n;
        try {
            n = ByteSize.parse(value);
        } catch (final IllegalArgumentException e) {
            throw invalid(KEY_BUFFER_SIZE, value, e.getMessage());
        }
        if (n < MIN_BUFFER_SIZE) {
            throw invalid(KEY_BUFFER_SIZE, value, "expected at least 64k");
        }
        return n;
    }

    private static List<String> list(final String value) {
        return null == value || value.isEmpty() ? List.of() : List.of(value.split(",", -1));
    }

    private static Pattern regex(final String key, final String value) {
        if (null == value || value.isEmpty()) {
            return null;
        }
        try {
            return Pattern.compile(value);
        } catch (final PatternSyntaxException e) {
            throw invalid(key, value, "expected a regular expression (" + e.getDescription() + " near index "
                + e.getIndex() + ")");
        }
    }

    private static TagTemplate tag(final String value) {
        try {
            return TagTemplate.parse(value);
        } catch (final TagTemplateException e) {
            throw invalid(KEY_TAG, value, e.problem());
        }
    }

    private static List<String> servers(final String value) {
        if (null == value || value.isBlank()) {
            return List.of(DEFAULT_SERVER);
        }
        final List<String> servers = new ArrayList<>();
        for (final String raw : value.split(",", -1)) {
            servers.add(server(raw.trim(), value));
        }
        return List.copyOf(servers);
    }

    private static String server(final String entry, final String whole) {
        final String expected = "expected a comma-separated list of nats://host:port, tls://host:port or host:port";
        if (entry.isEmpty()) {
            throw invalid(KEY_SERVERS, whole, expected + " (an entry is empty)");
        }
        final int schemeEnd = entry.indexOf("://");
        final String scheme = schemeEnd < 0 ? "nats" : entry.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        if (!scheme.equals("nats") && !scheme.equals("tls")) {
            throw invalid(KEY_SERVERS, whole, expected + " (scheme '" + scheme + "' in '" + entry + "')");
        }
        final URI uri;
        try {
            uri = new URI(scheme + "://" + (schemeEnd < 0 ? entry : entry.substring(schemeEnd + 3)));
        } catch (final URISyntaxException e) {
            throw invalid(KEY_SERVERS, whole, expected + " ('" + entry + "' is not a host:port)");
        }
        if (null != uri.getRawUserInfo()) {
            // never echo: the URL holds credentials
            throw new OptionException(KEY_SERVERS,
                "nats: log-opt nats-servers holds credentials in a URL; use nats-user/nats-pass or nats-token instead");
        }
        if (null == uri.getHost() || (null != uri.getRawPath() && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
            || null != uri.getRawQuery() || null != uri.getRawFragment()) {
            throw invalid(KEY_SERVERS, whole, expected + " ('" + entry + "' is not a host:port)");
        }
        final int port = -1 == uri.getPort() ? DEFAULT_PORT : uri.getPort();
        if (port < 1 || port > 65535) {
            throw invalid(KEY_SERVERS, whole, expected + " (port " + port + " in '" + entry + "')");
        }
        return scheme + "://" + uri.getHost() + ":" + port;
    }

    private static int maxReconnect(final String value) {
        if (null == value) {
            return DEFAULT_MAX_RECONNECT;
        }
        try {
            final int n = Integer.parseInt(value.trim());
            if (n >= -1) {
                return n;
            }
        } catch (final NumberFormatException ignored) {
            // reported below
        }
        throw invalid(KEY_MAX_RECONNECT, value, "expected an integer >= -1 (-1 = reconnect forever, 0 = never)");
    }

    /** Go's {@code strconv.ParseBool} values; a bare {@code --log-opt key} (empty value) means true. */
    private static boolean bool(final String key, final String value, final boolean present) {
        if (!present) {
            return false;
        }
        return switch (null == value ? "" : value) {
            case "", "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw invalid(key, value, "expected true or false");
        };
    }

    private static Path file(final String key, final String value) {
        if (null == value) {
            return null;
        }
        if (value.isEmpty()) {
            throw invalid(key, value, "expected the path of a PEM file");
        }
        final Path path = Path.of(value);
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw invalid(key, value, "expected a readable PEM file; none is readable at that path by the plugin"
                + " (a managed plugin sees host files only through its mount: see README, TLS)");
        }
        return path;
    }

    /**
     * A publish subject: tokens separated by '.', none empty; no whitespace or control characters; no
     * wildcards ('*', '>'); at most {@link #MAX_SUBJECT_BYTES} bytes.
     */
    private static void checkSubject(final String key, final String shownValue, final String subject) {
        final String rendered = shownValue.equals(subject) ? "" : " (rendered: '" + subject + "')";
        if (subject.isEmpty()) {
            throw invalid(key, shownValue, "expected a NATS subject, got an empty one" + rendered);
        }
        for (int i = 0; i < subject.length(); i++) {
            final char c = subject.charAt(i);
            if (c == '*' || c == '>') {
                throw invalid(key, shownValue, "expected a NATS publish subject without wildcards ('*', '>')" + rendered);
            }
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw invalid(key, shownValue, "expected a NATS subject without whitespace or control characters" + rendered);
            }
        }
        if (subject.startsWith(".") || subject.endsWith(".") || subject.contains("..")) {
            throw invalid(key, shownValue, "expected a NATS subject of non-empty tokens separated by '.'" + rendered);
        }
        final int bytes = subject.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_SUBJECT_BYTES) {
            throw invalid(key, shownValue, "expected a NATS subject of at most " + MAX_SUBJECT_BYTES + " bytes, got "
                + bytes + rendered);
        }
    }

    private static String emptyToNull(final String s) {
        return null == s || s.isEmpty() ? null : s;
    }

    private static OptionException invalid(final String key, final String value, final String expected) {
        final String shown = SECRET_KEYS.contains(key) ? "" : "='" + value + "'";
        return new OptionException(key, "nats: log-opt " + key + shown + " is invalid: " + expected);
    }
}
