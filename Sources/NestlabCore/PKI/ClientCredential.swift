import Crypto
import X509

/// A client certificate and its key, for kubeconfigs and HTTPS client authentication.
public struct ClientCredential: Sendable {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    /// The certificate as PEM `CERTIFICATE`.
    public var certificatePEM: String {
        get throws(PKIError) { try ClusterCA.pem(certificate) }
    }

    /// The private key as PEM PKCS#8 `PRIVATE KEY`.
    public var privateKeyPEM: String { privateKey.pemRepresentation + "\n" }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads a credential written by ``certificatePEM`` and ``privateKeyPEM``; the key must match.
    public init(certificatePEM: String, privateKeyPEM: String) throws(PKIError) {
        let (certificate, key) = try ClusterCA.loadPair(
            certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, what: "client")
        self.init(certificate: certificate, privateKey: key)
    }
}
