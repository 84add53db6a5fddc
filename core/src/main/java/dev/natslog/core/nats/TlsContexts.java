package dev.natslog.core.nats;

import dev.natslog.core.config.ConnectionSettings;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;

/**
 * Builds the {@link SSLContext} jnats uses from the PEM files of the {@code nats-tls-*} options.
 *
 * <ul>
 *   <li>{@code nats-tls-ca-cert}: its certificates are added to the JDK's trusted roots.</li>
 *   <li>{@code nats-tls-cert} + {@code nats-tls-key}: the client certificate chain and key (PKCS#8, PKCS#1 RSA or
 *   SEC1 EC, read with Bouncy Castle) for mutual TLS.</li>
 *   <li>The server's certificate <b>and host name</b> are verified unless {@code nats-tls-skip-verify}: jnats
 *   opens its TLS socket without endpoint identification, so the context's socket factory turns it on.</li>
 * </ul>
 */
public final class TlsContexts {
    private TlsContexts() {
    }

    /**
     * @param s connection settings with {@code tls()} set.
     * @return the context.
     * @throws IOException naming the option whose file cannot be used.
     */
    public static SSLContext create(final ConnectionSettings s) throws IOException {
        final TrustManager[] trust = s.tlsSkipVerify() ? new TrustManager[] {new TrustAll()} : trustManagers(s.tlsCaCert());
        final KeyManager[] keys = null == s.tlsCert() ? null : keyManagers(s.tlsCert(), s.tlsKey());
        try {
            final SSLContext base = SSLContext.getInstance("TLS");
            base.init(keys, trust, new SecureRandom());
            return s.tlsSkipVerify() ? base : new VerifyingContext(base);
        } catch (final GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    private static TrustManager[] trustManagers(final Path caCert) throws IOException {
        try {
            final TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            defaults.init((KeyStore) null);
            if (null == caCert) {
                return defaults.getTrustManagers();
            }
            final KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (final TrustManager tm : defaults.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    for (final X509Certificate root : x.getAcceptedIssuers()) {
                        store.setCertificateEntry("root-" + i++, root);
                    }
                }
            }
            final Collection<? extends Certificate> cas = certificates(caCert, "nats-tls-ca-cert");
            for (final Certificate c : cas) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return tmf.getTrustManagers();
        } catch (final GeneralSecurityException e) {
            throw new IOException("nats-tls-ca-cert '" + caCert + "': " + e.getMessage(), e);
        }
    }

    private static KeyManager[] keyManagers(final Path cert, final Path key) throws IOException {
        final Collection<? extends Certificate> chain = certificates(cert, "nats-tls-cert");
        final PrivateKey privateKey = privateKey(key);
        try {
            final KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            final char[] password = new char[0];
            store.setKeyEntry("client", privateKey, password, chain.toArray(Certificate[]::new));
            final KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            return kmf.getKeyManagers();
        } catch (final GeneralSecurityException e) {
            throw new IOException("nats-tls-cert '" + cert + "' and nats-tls-key '" + key + "' do not fit together: "
                + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> certificates(final Path file, final String option) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            final Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IOException(option + " '" + file + "': no PEM certificate in the file");
            }
            return certs;
        } catch (final GeneralSecurityException e) {
            throw new IOException(option + " '" + file + "': not a PEM certificate file (" + e.getMessage() + ")", e);
        }
    }

    private static PrivateKey privateKey(final Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser parser = new PEMParser(r)) {
            final JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = parser.readObject(); null != o; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    // PKCS#1 RSA or SEC1 EC (whose public part is optional, so only the private key is read)
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info); // PKCS#8
                }
            }
            throw new IOException("nats-tls-key '" + file + "': no unencrypted PEM private key in the file");
        } catch (final IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith("nats-tls-key") ? e
                : new IOException("nats-tls-key '" + file + "': cannot read the key (" + e.getMessage() + ")", e);
        }
    }

    /** Trusts every server: only for {@code nats-tls-skip-verify}. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(final X509Certificate[] chain, final String authType) {
        }

        @Override
        public void checkServerTrusted(final X509Certificate[] chain, final String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** A context whose sockets check the server's host name against its certificate. */
    private static final class VerifyingContext extends SSLContext {
        VerifyingContext(final SSLContext delegate) {
            super(new Spi(delegate), delegate.getProvider(), delegate.getProtocol());
        }
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;

        Spi(final SSLContext delegate) {
            this.delegate = delegate;
        }

        @Override
        protected void engineInit(final KeyManager[] km, final TrustManager[] tm, final SecureRandom sr)
            throws KeyManagementException {
            delegate.init(km, tm, sr);
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return new VerifyingSocketFactory(delegate.getSocketFactory());
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return delegate.getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return verifying(delegate.createSSLEngine());
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(final String host, final int port) {
            return verifying(delegate.createSSLEngine(host, port));
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        private static SSLEngine verifying(final SSLEngine engine) {
            final SSLParameters p = engine.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(p);
            return engine;
        }
    }

    private static final class VerifyingSocketFactory extends SSLSocketFactory {
        private final SSLSocketFactory delegate;

        VerifyingSocketFactory(final SSLSocketFactory delegate) {
            this.delegate = delegate;
        }

        private static Socket verifying(final Socket socket) {
            if (socket instanceof SSLSocket ssl) {
                final SSLParameters p = ssl.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(p);
            }
            return socket;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return delegate.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public Socket createSocket(final Socket s, final String host, final int port, final boolean autoClose)
            throws IOException {
            return verifying(delegate.createSocket(s, host, port, autoClose));
        }

        @Override
        public Socket createSocket(final String host, final int port) throws IOException {
            return verifying(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(final String host, final int port, final InetAddress localHost, final int localPort)
            throws IOException {
            return verifying(delegate.createSocket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(final InetAddress host, final int port) throws IOException {
            return verifying(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(final InetAddress address, final int port, final InetAddress localAddress,
                                   final int localPort) throws IOException {
            return verifying(delegate.createSocket(address, port, localAddress, localPort));
        }
    }
}
