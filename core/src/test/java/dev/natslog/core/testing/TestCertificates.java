package dev.natslog.core.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made at test time (never committed): a CA, and server or client certificates it signs, written
 * as PEM files with keys in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) form.
 */
public final class TestCertificates {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** How a key is written. */
    public enum KeyForm { PKCS8, TRADITIONAL }

    /** A certificate and its key, in memory. */
    public record Issued(X509Certificate certificate, KeyPair keys) {
        public Path writeCert(final Path file) throws IOException {
            return write(file, certificate);
        }

        public Path writeKey(final Path file, final KeyForm form) throws IOException, InterruptedException {
            final StringWriter s = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(s)) {
                w.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
            }
            Files.writeString(file, s.toString());
            if (form == KeyForm.TRADITIONAL) {
                // what users get from openssl: "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1, with parameters)
                final String tool = keys.getPrivate().getAlgorithm().equals("RSA") ? "rsa" : "ec";
                final java.util.List<String> cmd = new java.util.ArrayList<>(
                    java.util.List.of("openssl", tool, "-in", file.toString(), "-out", file.toString()));
                if (tool.equals("rsa")) {
                    cmd.add("-traditional"); // OpenSSL 3 writes PKCS#8 otherwise; `openssl ec` writes SEC1 anyway
                }
                final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                final String out = new String(p.getInputStream().readAllBytes());
                if (0 != p.waitFor()) {
                    throw new IOException("openssl " + tool + " failed: " + out);
                }
                final String pem = Files.readString(file);
                if (!pem.contains("BEGIN " + (tool.equals("rsa") ? "RSA" : "EC") + " PRIVATE KEY")) {
                    throw new IOException("openssl did not write a traditional key: " + pem.lines().findFirst().orElse(""));
                }
            }
            return file;
        }
    }

    private TestCertificates() {
    }

    public static KeyPair rsa() throws Exception {
        final KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    public static KeyPair ec() throws Exception {
        final KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A self-signed CA. */
    public static Issued ca(final String name) throws Exception {
        final KeyPair keys = rsa();
        final X500Name subject = new X500Name("CN=" + name);
        final JcaX509v3CertificateBuilder b = builder(subject, subject, keys);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return new Issued(sign(b, keys, "SHA256withRSA"), keys);
    }

    /**
     * @param ca       the issuer.
     * @param name     the subject's CN.
     * @param keys     the subject's keys.
     * @param dnsNames host names the certificate is for (empty for a client certificate).
     */
    public static Issued issue(final Issued ca, final String name, final KeyPair keys, final String... dnsNames)
        throws Exception {
        final JcaX509v3CertificateBuilder b = builder(new X500Name("CN=" + ca.certificate().getSubjectX500Principal().getName()
            .replace("CN=", "")), new X500Name("CN=" + name), keys);
        if (dnsNames.length > 0) {
            final GeneralName[] names = new GeneralName[dnsNames.length];
            for (int i = 0; i < dnsNames.length; i++) {
                names[i] = dnsNames[i].matches("[0-9.]+")
                    ? new GeneralName(GeneralName.iPAddress, dnsNames[i])
                    : new GeneralName(GeneralName.dNSName, dnsNames[i]);
            }
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        }
        return new Issued(sign(b, ca.keys(), "SHA256withRSA"), keys);
    }

    private static JcaX509v3CertificateBuilder builder(final X500Name issuer, final X500Name subject, final KeyPair keys) {
        final long now = System.currentTimeMillis();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
            new Date(now - 3_600_000L), new Date(now + 86_400_000L), subject, keys.getPublic());
    }

    private static X509Certificate sign(final JcaX509v3CertificateBuilder b, final KeyPair signer, final String alg)
        throws Exception {
        final ContentSigner s = new JcaContentSignerBuilder(alg).build(signer.getPrivate());
        final X509CertificateHolder h = b.build(s);
        return new JcaX509CertificateConverter().getCertificate(h);
    }

    private static Path write(final Path file, final Object pem) throws IOException {
        final StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(pem);
        }
        Files.writeString(file, s.toString());
        return file;
    }
}
