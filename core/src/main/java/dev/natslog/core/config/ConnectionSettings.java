package dev.natslog.core.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything that makes one NATS connection: containers whose settings are equal share a connection.
 * {@link #toString()} never shows the password or the token.
 *
 * @param servers       {@code nats://host:port} or {@code tls://host:port}, in the order given.
 * @param maxReconnect  reconnect attempts; -1 = forever.
 * @param user          user name, or null.
 * @param password      password, or null.
 * @param token         token, or null.
 * @param tls           whether to use TLS.
 * @param tlsCaCert     PEM file of CA certificates added to the trusted roots, or null.
 * @param tlsCert       PEM file of the client certificate, or null.
 * @param tlsKey        PEM file of the client key, or null.
 * @param tlsSkipVerify true to skip verifying the server's certificate and host name.
 */
public record ConnectionSettings(
    List<String> servers,
    int maxReconnect,
    String user,
    String password,
    String token,
    boolean tls,
    Path tlsCaCert,
    Path tlsCert,
    Path tlsKey,
    boolean tlsSkipVerify) {

    public ConnectionSettings {
        servers = List.copyOf(servers);
    }

    @Override
    public String toString() {
        return "servers=" + String.join(",", servers)
            + (null != user ? " user=" + user : "")
            + (null != password ? " password=<hidden>" : "")
            + (null != token ? " token=<hidden>" : "")
            + (tls ? " tls" + (tlsSkipVerify ? "(skip-verify)" : "") : "")
            + " max-reconnect=" + maxReconnect;
    }
}
