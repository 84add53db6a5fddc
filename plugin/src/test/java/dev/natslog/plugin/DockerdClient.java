package dev.natslog.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Speaks to the plugin as dockerd 20.10 does: raw HTTP/1.1 POSTs on the unix socket, empty Host, no Content-Type. */
final class DockerdClient {
    static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, String contentType, JsonNode body) {
        String err() {
            return null == body.get("Err") ? "" : body.get("Err").asText();
        }
    }

    private final Path socket;

    DockerdClient(final Path socket) {
        this.socket = socket;
    }

    Reply post(final String method, final String body) throws IOException {
        return request("POST", method, body);
    }

    /** A GET, as a person with curl would send it. */
    Reply get(final String path) throws IOException {
        return request("GET", path, "");
    }

    private Reply request(final String verb, final String method, final String body) throws IOException {
        final byte[] b = body.getBytes(StandardCharsets.UTF_8);
        final String head = verb + " /" + method + " HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n"
            + "Content-Length: " + b.length + "\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
            + "Accept-Encoding: gzip\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            final ByteBuffer out = ByteBuffer.allocate(head.length() + b.length);
            out.put(head.getBytes(StandardCharsets.US_ASCII)).put(b).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            final ByteArrayOutputStream in = new ByteArrayOutputStream();
            final ByteBuffer buf = ByteBuffer.allocate(8192);
            while (true) {
                buf.clear();
                final int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                in.write(buf.array(), 0, n);
                final String s = in.toString(StandardCharsets.UTF_8);
                final int headerEnd = s.indexOf("\r\n\r\n");
                if (headerEnd >= 0) {
                    final int length = contentLength(s.substring(0, headerEnd));
                    if (in.size() >= headerEnd + 4 + length) {
                        break;
                    }
                }
            }
            final String response = in.toString(StandardCharsets.UTF_8);
            final int headerEnd = response.indexOf("\r\n\r\n");
            final String headers = response.substring(0, headerEnd);
            final int status = Integer.parseInt(headers.split(" ")[1]);
            String contentType = "";
            for (final String line : headers.split("\r\n")) {
                if (line.toLowerCase().startsWith("content-type:")) {
                    contentType = line.substring(13).trim();
                }
            }
            return new Reply(status, contentType, JSON.readTree(response.substring(headerEnd + 4)));
        }
    }

    private static int contentLength(final String headers) {
        for (final String line : headers.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    static String startBody(final String file, final String id, final String name, final String configJson,
                            final String labelsJson, final String envJson) {
        return "{\"File\":\"" + file + "\",\"Info\":{\"Config\":" + configJson + ",\"ContainerID\":\"" + id
            + "\",\"ContainerName\":\"/" + name + "\",\"ContainerEntrypoint\":\"sh\",\"ContainerArgs\":[\"-c\",\"seq 5\"],"
            + "\"ContainerImageID\":\"sha256:3650aaaa\",\"ContainerImageName\":\"bb:latest\","
            + "\"ContainerCreated\":\"2026-11-23T18:34:48.279659322Z\",\"ContainerEnv\":" + envJson + ","
            + "\"ContainerLabels\":" + labelsJson + ",\"LogPath\":\"\",\"DaemonName\":\"docker\"}}";
    }

    static String stopBody(final String file) {
        return "{\"File\":\"" + file + "\"}";
    }
}
