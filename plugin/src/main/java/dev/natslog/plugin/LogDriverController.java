package dev.natslog.plugin;

import dev.natslog.core.config.OptionException;
import dev.natslog.core.stream.LogDriver;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Error;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.event.ServerStartupEvent;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

/**
 * Docker's LogDriver API, as dockerd calls it: {@code POST /<Method>} with an empty Host, an Accept of
 * {@code application/vnd.docker.plugins.v1.2+json} and no Content-Type. Every reply is a JSON body. Transport
 * only: each endpoint decodes, calls the {@link LogDriver}, answers.
 */
@Controller
@Consumes(MediaType.ALL)
@Produces(MediaType.ALL)
final class LogDriverController implements ApplicationEventListener<ServerStartupEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(LogDriverController.class);

    private final LogDriver driver;
    private final JsonMapper json;

    LogDriverController(final LogDriver driver, final JsonMapper json) {
        this.driver = driver;
        this.json = json;
    }

    /** Once listening: re-open the streams a killed predecessor left (dockerd will not send StartLogging again). */
    @Override
    public void onApplicationEvent(final ServerStartupEvent event) {
        final int n = driver.recover(bytes -> {
            try {
                final Requests.StartLogging r = json.readValue(bytes, Requests.StartLogging.class);
                return new LogDriver.StartRequest(r.file(), info(r));
            } catch (final IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        });
        LOG.info("NATS log driver listening {} ms after the JVM started; {} stream(s) recovered",
            java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(), n);
    }

    @Post("/Plugin.Activate")
    HttpResponse<byte[]> activate() {
        return reply(new Requests.ActivateResponse(List.of("LogDriver")));
    }

    @Post("/LogDriver.Capabilities")
    HttpResponse<byte[]> capabilities() {
        return reply(new Requests.CapabilitiesResponse(new Requests.Capabilities(false)));
    }

    @Post("/LogDriver.StartLogging")
    HttpResponse<byte[]> startLogging(@Body final byte[] body) {
        final Requests.StartLogging request;
        try {
            request = json.readValue(body, Requests.StartLogging.class);
        } catch (final IOException e) {
            return err("nats: StartLogging: the request is not valid JSON: " + e.getMessage());
        }
        if (null == request || null == request.file() || request.file().isEmpty()) {
            return err("nats: StartLogging: the request has no File");
        }
        try {
            driver.start(request.file(), info(request), body);
            return ok();
        } catch (final OptionException e) {
            LOG.warn("refused to start logging for {}: {}", name(request), e.getMessage());
            return err(e.getMessage());
        } catch (final IOException | RuntimeException e) {
            LOG.error("cannot start logging for {}: {}", name(request), e.getMessage());
            return err("nats: " + e.getMessage());
        }
    }

    @Post("/LogDriver.StopLogging")
    HttpResponse<byte[]> stopLogging(@Body final byte[] body) {
        // never fails: an error here leaks dockerd's FIFO and its reference count on the plugin
        try {
            final Requests.StopLogging request = json.readValue(body, Requests.StopLogging.class);
            if (null != request && null != request.file()) {
                driver.stop(request.file());
            }
        } catch (final IOException | RuntimeException e) {
            LOG.warn("StopLogging with an unreadable body: {}", e.getMessage());
        }
        return ok();
    }

    /**
     * This plugin's counters, for people rather than dockerd: plugin-wide and per live container (sent, dropped,
     * waiting). {@code curl --unix-socket /run/docker/plugins/<plugin id>/nats.sock http://localhost/Stats}.
     */
    @Get("/Stats")
    HttpResponse<byte[]> stats() {
        return reply(Requests.StatsResponse.of(driver.stats()));
    }

    /** The same, as POST (every other endpoint of the socket is POST). */
    @Post("/Stats")
    HttpResponse<byte[]> statsByPost() {
        return stats();
    }

    @Post("/LogDriver.ReadLogs")
    HttpResponse<byte[]> readLogs() {
        return err("nats: ReadLogs is not supported: Docker's own cache serves docker logs (Capabilities ReadLogs=false)");
    }

    /** Anything else: an error with a JSON body. */
    @Error(global = true, status = HttpStatus.NOT_FOUND)
    HttpResponse<byte[]> notFound(final HttpRequest<?> request) {
        return reply(HttpStatus.NOT_FOUND, new Requests.ErrResponse("nats: unknown endpoint " + request.getPath()));
    }

    /** Other routing failures (e.g. a GET): still a JSON body. */
    @Error(global = true, status = HttpStatus.METHOD_NOT_ALLOWED)
    HttpResponse<byte[]> notAllowed(final HttpRequest<?> request) {
        return reply(HttpStatus.METHOD_NOT_ALLOWED,
            new Requests.ErrResponse("nats: " + request.getMethod() + " " + request.getPath() + " is not supported; dockerd uses POST"));
    }

    private static dev.natslog.core.docker.ContainerInfo info(final Requests.StartLogging r) {
        return null == r.info()
            ? new dev.natslog.core.docker.ContainerInfo(null, null, null, null, null, null, null, null, null, null, null, null)
            : r.info().toContainerInfo();
    }

    private static String name(final Requests.StartLogging r) {
        return null == r.info() || null == r.info().containerName() ? r.file() : r.info().containerName();
    }

    private HttpResponse<byte[]> ok() {
        return reply(new Requests.ErrResponse(""));
    }

    private HttpResponse<byte[]> err(final String message) {
        return reply(new Requests.ErrResponse(message));
    }

    private HttpResponse<byte[]> reply(final Object body) {
        return reply(HttpStatus.OK, body);
    }

    private HttpResponse<byte[]> reply(final HttpStatus status, final Object body) {
        try {
            return HttpResponse.<byte[]>status(status).body(json.writeValueAsBytes(body))
                .contentType(MediaType.APPLICATION_JSON_TYPE);
        } catch (final IOException e) {
            return HttpResponse.<byte[]>status(HttpStatus.INTERNAL_SERVER_ERROR)
                .body("{\"Err\":\"nats: cannot write a reply\"}".getBytes())
                .contentType(MediaType.APPLICATION_JSON_TYPE);
        }
    }
}
