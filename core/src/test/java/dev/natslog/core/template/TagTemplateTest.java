package dev.natslog.core.template;

import dev.natslog.core.docker.ContainerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TagTemplateTest {
    static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static ContainerInfo info() {
        final Map<String, String> labels = new LinkedHashMap<>();
        labels.put("com.example.team", "payments");
        labels.put("app", "web");
        return new ContainerInfo(Map.of("tag", "x"), ID, "/test-container", "sh", List.of("-c", "echo hi"),
            "sha256:4bbbe0d0c1d3ab1fb8b0a4d4aa2d4f5b4d8cc6a6a4f7fc0e3ab1c54e9dfdcafe", "nginx:1.27",
            "2026-11-23T18:34:48.279659322Z", List.of("A=1", "B=two=2", "NOEQ"), labels, "", "docker");
    }

    static String render(final String template) {
        return TagTemplate.parse(template).render(info(), "host-1");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '~', value = {
        "{{.ID}} => 0123456789ab",
        "{{.FullID}} => " + ID,
        "{{.Name}} => test-container",
        "{{.ImageID}} => sha256:4bbbe",
        "{{.ImageFullID}} => sha256:4bbbe0d0c1d3ab1fb8b0a4d4aa2d4f5b4d8cc6a6a4f7fc0e3ab1c54e9dfdcafe",
        "{{.ImageName}} => nginx:1.27",
        "{{.DaemonName}} => docker",
        "{{.Hostname}} => host-1",
        "{{.Command}} => sh -c echo hi",
        "{{.ContainerName}} => /test-container",
        "{{.ContainerArgs}} => [-c echo hi]",
        "{{.ContainerEnv}} => [A=1 B=two=2 NOEQ]",
        "{{.ContainerLabels}} => map[app:web com.example.team:payments]",
        "{{.ContainerCreated}} => 2026-11-23T18:34:48.279659322Z",
        "{{.Config}} => map[tag:x]",
        "{{.ContainerLabels.app}} => web",
        "{{.ContainerLabels.nope}} => <no value>",
        "{{index .ContainerLabels \"com.example.team\"}} => payments",
        "{{index .ContainerLabels \"missing\"}} => ~~",
        "{{index .ContainerArgs 1}} => echo hi",
        "docker.{{.ID}}.{{.ImageName}} => docker.0123456789ab.nginx:1.27",
        "{{.ImageName}}/{{.Name}}/{{.ID}} => nginx:1.27/test-container/0123456789ab",
        "{{.DaemonName}}/{{.ID}} => docker/0123456789ab",
        "{{.Name | upper}} => TEST-CONTAINER",
        "{{upper .Name}} => TEST-CONTAINER",
        "{{lower \"ABC\"}} => abc",
        "{{title \"hello wide world\"}} => Hello Wide World",
        "{{title \"foo-bar_baz\"}} => Foo-Bar_baz",
        "{{split .Name \"-\"}} => [test container]",
        "{{join (split .Name \"-\") \".\"}} => test.container",
        "{{json .Name}} => \"test-container\"",
        "{{json .ContainerArgs}} => [\"-c\",\"echo hi\"]",
        "{{json .ContainerLabels}} => {\"app\":\"web\",\"com.example.team\":\"payments\"}",
        "{{json \"<a&b>\"}} => \"<a&b>\"",
        "{{pad .Name 2 1}} => ~  test-container ~",
        "{{pad \"\" 2 1}} => ~~",
        "{{truncate .ID 4}} => 0123",
        "{{truncate .Name 100}} => test-container",
        "{{len .ContainerArgs}} => 2",
        "{{len .Name}} => 14",
        "{{print .Name \"-\" 3}} => test-container-3",
        "{{print 1 2}} => 1 2",
        "{{printf \"%s.%s\" .DaemonName .ID}} => docker.0123456789ab",
        "{{printf \"%d%%\" 5}} => 5%",
        "{{`raw\\n`}} => raw\\n",
        "{{\"tab\\there\"}} => ~tab\there~",
        "a {{- \" b \" -}} c => a b c",
        "a  {{- .ID}} => a0123456789ab",
        "{{.ID -}}   z => 0123456789abz",
        "x{{/* a comment */}}y => xy",
        "{{(.Name)}} => test-container",
        "plain text => plain text",
        "{{.ID}}{{.ID}} => 0123456789ab0123456789ab",
    })
    void rendersLikeDocker(final String template, final String expected) {
        assertEquals(expected, render(template));
    }

    @Test
    void emptyOrMissingTagMeansTheShortId() {
        assertEquals("0123456789ab", render(""));
        assertEquals("0123456789ab", render(null));
        assertEquals(TagTemplate.DEFAULT, TagTemplate.parse(null).source());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '~', value = {
        "{{.Nope}} => can't evaluate field Nope",
        "{{.ID => unclosed action",
        "{{nosuch .ID}} => function \"nosuch\" not defined",
        "{{if .ID}}x{{end}} => \"if\" is not supported",
        "{{range .ContainerArgs}}{{end}} => \"range\" is not supported",
        "{{$x := 1}} => variables",
        "{{}} => missing value",
        "{{.ID | }} => missing command after |",
        "{{(.ID}} => unclosed left paren",
        "{{.ID)}} => unexpected right paren",
        "{{\"unterminated}} => unterminated quoted string",
        "{{/* open => unclosed comment",
        "{{.ID .Name}} => can't give argument to non-function",
        "{{upper}} => wrong number of args: want 1, got 0",
        "{{upper .ContainerArgs}} => must be a string, got []string",
        "{{pad .Name -1 0}} => must be an integer from 0 to 4096",
        "{{index .Name 1}} => can't index item of type string",
        "{{index .ContainerArgs 5}} => index out of range: 5",
        "{{.Name.x}} => not a map",
        "{{.}} => name a field",
        "{{printf \"%x\" 1}} => format verb %x is not supported",
        "{{printf \"%s\"}} => needs more arguments",
        "{{12abc}} => bad number syntax",
        // Go passes the piped value as the LAST argument, so these are type errors in Docker too
        "{{split .Name \"-\" | join \"+\"}} => argument 2 must be a string, got []string",
        "{{.Name | truncate 4}} => argument 1 must be a string, got int",
    })
    void errorsNameTheTemplateAndTheProblem(final String template, final String problem) {
        final TagTemplateException e = assertThrows(TagTemplateException.class, () -> render(template));
        assertTrue(e.getMessage().startsWith("tag template \"" + template + "\": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(template, e.template());
    }

    @Test
    void dockersOwnTestsReproduce() {
        // moby daemon/logger/loggerutils/log_tag_test.go
        final ContainerInfo i = new ContainerInfo(Map.of(), "container-abcdefghijklmnopqrstuvwxyz01234567890",
            "/test-container", null, null, "image-abcdefghijklmnopqrstuvwxyz01234567890", "test-image", null, null,
            null, null, "test-dockerd");
        assertEquals("container-ab", TagTemplate.parse("").render(i, "h"));
        assertEquals("test-image/test-container/container-ab",
            TagTemplate.parse("{{.ImageName}}/{{.Name}}/{{.ID}}").render(i, "h"));
        assertEquals("test-dockerd/container-ab", TagTemplate.parse("{{.DaemonName}}/{{.ID}}").render(i, "h"));
        assertEquals("image-abcdef", TagTemplate.parse("{{.ImageID}}").render(i, "h"));
        assertEquals("container-abcdefghijklmnopqrstuvwxyz01234567890", TagTemplate.parse("{{.FullID}}").render(i, "h"));
        assertEquals("test-image/test-container/container-ab/image-abcdef",
            TagTemplate.parse("{{.ImageName}}/{{.Name}}/{{.ID}}/{{.ImageID}}").render(i, "h"));
    }
}
