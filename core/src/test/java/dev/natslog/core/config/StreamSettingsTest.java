package dev.natslog.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.natslog.core.docker.ContainerInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class StreamSettingsTest {
    static final String ID = "b2e0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa28b6";

    public static ContainerInfo info(final Map<String, String> config) {
        final Map<String, String> labels = new LinkedHashMap<>();
        labels.put("com.example.team", "payments");
        labels.put("com.example.tier", "front");
        labels.put("app", "web");
        labels.put("hostname", "from-label");
        labels.put("time", "never");
        return new ContainerInfo(config, ID, "/mystifying_moser", "sh", List.of("-c", "echo hello"),
            "sha256:3650cccccccccccccccccccccccccccccccccccccccccccccccccccccccc6cc", "bb:latest",
            "2026-11-23T18:34:48.279659322Z", List.of("APP_ID=7", "REGION=eu", "EMPTY=", "NOEQ", "X=a=b"), labels, "", "docker");
    }

    /** Parses the prefix as an object by closing it with a dummy field. */
    static JsonNode prefixAsJson(final StreamSettings s) throws Exception {
        final String prefix = new String(s.eventPrefix(), StandardCharsets.UTF_8);
        assertTrue(prefix.startsWith("{") && prefix.endsWith(","), prefix);
        return new ObjectMapper().readTree(prefix + "\"_end\":0}");
    }

    static List<String> keys(final JsonNode n) {
        final List<String> keys = new ArrayList<>();
        n.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    @Test
    void theSixMetadataFieldsAndTheDefaultSubject() throws Exception {
        final Map<String, String> config = Map.of();
        final StreamSettings s = StreamSettings.resolve(info(config), LogOptions.parse(config), "h1");
        assertEquals("b2e0aaaaaaaa", s.tag());
        assertEquals("b2e0aaaaaaaa", s.subject(), "subject defaults to the rendered tag");
        final JsonNode p = prefixAsJson(s);
        assertEquals(List.of("container_id", "container_name", "image_id", "image_name", "hostname", "tag", "_end"), keys(p));
        assertEquals(ID, p.get("container_id").asText());
        assertEquals("mystifying_moser", p.get("container_name").asText(), "no leading /");
        assertEquals("sha256:3650cccccccccccccccccccccccccccccccccccccccccccccccccccccccc6cc", p.get("image_id").asText());
        assertEquals("bb:latest", p.get("image_name").asText());
        assertEquals("h1", p.get("hostname").asText());
        assertEquals("b2e0aaaaaaaa", p.get("tag").asText());
    }

    @Test
    void labelsAndEnvBecomeFlatFieldsAndMayOverwriteMetadataButNotPerLineKeys() throws Exception {
        final Map<String, String> config = Map.of("labels", "app,hostname,time,missing", "labels-regex", "example\\.te",
            "env", "REGION,EMPTY,X,NOEQ", "env-regex", "_ID$");
        final StreamSettings s = StreamSettings.resolve(info(config), LogOptions.parse(config), "h1");
        final JsonNode p = prefixAsJson(s);
        assertEquals("web", p.get("app").asText());
        assertEquals("from-label", p.get("hostname").asText(), "an extra attribute overwrites a metadata field");
        assertEquals("payments", p.get("com.example.team").asText(), "labels-regex matches anywhere (find)");
        assertNull(p.get("com.example.tier"));
        assertEquals("eu", p.get("REGION").asText());
        assertEquals("", p.get("EMPTY").asText());
        assertEquals("a=b", p.get("X").asText(), "split at the first =");
        assertNull(p.get("NOEQ"), "an env entry without = is ignored");
        assertEquals("7", p.get("APP_ID").asText());
        assertNull(p.get("time"), "time, source and text always win");
        assertNull(p.get("missing"));
        assertEquals(List.of("container_id", "container_name", "image_id", "image_name", "hostname", "tag",
            "app", "com.example.team", "REGION", "EMPTY", "X", "APP_ID", "_end"), keys(p));
    }

    @Test
    void theSeedsTagExampleBecomesTheSubject() {
        final Map<String, String> config = Map.of("tag", "docker.{{.ID}}.{{.ImageName}}");
        final StreamSettings s = StreamSettings.resolve(info(config), LogOptions.parse(config), "h1");
        assertEquals("docker.b2e0aaaaaaaa.bb:latest", s.subject());
    }

    @Test
    void aTagThatRendersToAnInvalidSubjectIsRefusedNamingTag() {
        final Map<String, String> config = Map.of("tag", "{{.Name}} {{.ID}}");
        final OptionException e = assertThrows(OptionException.class,
            () -> StreamSettings.resolve(info(config), LogOptions.parse(config), "h1"));
        assertEquals("tag", e.option());
        assertTrue(e.getMessage().contains("rendered: 'mystifying_moser b2e0aaaaaaaa'"), e.getMessage());
    }

    @Test
    void aTagThatFailsToRenderIsRefusedNamingTag() {
        final Map<String, String> config = Map.of("tag", "{{index .ContainerArgs 9}}");
        final OptionException e = assertThrows(OptionException.class,
            () -> StreamSettings.resolve(info(config), LogOptions.parse(config), "h1"));
        assertEquals("tag", e.option());
        assertTrue(e.getMessage().contains("index out of range"), e.getMessage());
    }

    @Test
    void aGivenSubjectIsUsedEvenWhenTheTagIsNoSubject() {
        final Map<String, String> config = Map.of("tag", "{{.Name}} x", "nats-subject", "docker.logs");
        final StreamSettings s = StreamSettings.resolve(info(config), LogOptions.parse(config), "h1");
        assertEquals("docker.logs", s.subject());
        assertEquals("mystifying_moser x", s.tag());
    }

    @Test
    void nullsFromDockerAreEmpty() throws Exception {
        final ContainerInfo bare = new ContainerInfo(null, ID, null, null, null, null, null, null, null, null, null, null);
        final StreamSettings s = StreamSettings.resolve(bare, LogOptions.parse(null), "h");
        assertEquals("", prefixAsJson(s).get("container_name").asText());
        assertEquals("", bare.command());
    }
}
