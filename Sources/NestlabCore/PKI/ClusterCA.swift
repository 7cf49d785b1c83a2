import Crypto
import Foundation
import SwiftASN1
import X509

/// A cluster's certificate authority, made by nestlab before any VM exists.
///
/// kubeadm uses a pre-made CA when `/etc/kubernetes/pki/ca.crt` and `ca.key` exist before
/// `kubeadm init`. It checks (cmd/kubeadm/app/phases/certs, util/pkiutil, client-go
/// keyutil) that `ca.crt` is a PEM `CERTIFICATE` with basicConstraints CA:TRUE, and that
/// `ca.key` parses as an RSA or ECDSA key from a PEM block `PRIVATE KEY` (PKCS#8),
/// `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY`. Like kubeadm's own CA this one is
/// ECDSA P-256 when asked for ECDSA, named CN=kubernetes, valid for ten years, and
/// backdated five minutes (kubeadm's `CertificateBackdate`) to absorb clock skew.
public struct ClusterCA: Sendable {
    /// kubeadm's `CertificateBackdate`.
    public static let backdate: TimeInterval = 5 * 60
    /// kubeadm's `CACertificateValidityPeriod` (ten 365-day years).
    public static let validity: TimeInterval = 10 * 365 * 24 * 3600
    /// kubeadm's `CertificateValidityPeriod` for leaf certificates.
    public static let leafValidity: TimeInterval = 365 * 24 * 3600

    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    /// Makes a new self-signed CA valid from `now` minus ``backdate`` for `validity`.
    public static func generate(
        commonName: String = "kubernetes", now: Date = Date(), validity: TimeInterval = ClusterCA.validity
    ) throws(PKIError) -> ClusterCA {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        return try PKIError.wrapping("creating the cluster CA") {
            let name = try DistinguishedName { CommonName(commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - backdate,
                notValidAfter: now + validity,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
            return ClusterCA(certificate: certificate, privateKey: key)
        }
    }

    /// Loads a CA written by ``certificatePEM`` and ``privateKeyPEM`` (SEC1 keys load too).
    public init(certificatePEM: String, privateKeyPEM: String) throws(PKIError) {
        let (certificate, key) = try Self.loadPair(
            certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, what: "CA")
        self.init(certificate: certificate, privateKey: key)
    }

    /// Reads a certificate and its P-256 key from PEM, and checks that they belong together.
    static func loadPair(certificatePEM: String, privateKeyPEM: String, what: String) throws(PKIError)
        -> (Certificate, P256.Signing.PrivateKey)
    {
        let certificate: Certificate
        let key: P256.Signing.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw .malformedCertificate("cannot read the \(what) certificate: \(error)")
        }
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw .malformedKey("cannot read the \(what) key as an ECDSA P-256 PEM key: \(error)")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else { throw .keyMismatch }
        return (certificate, key)
    }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The certificate in DER.
    public var certificateDER: [UInt8] {
        get throws(PKIError) { try Self.der(certificate) }
    }

    /// `ca.crt`: the certificate as PEM `CERTIFICATE`.
    public var certificatePEM: String {
        get throws(PKIError) { try Self.pem(certificate) }
    }

    /// `ca.key`: the private key as PEM PKCS#8 `PRIVATE KEY`.
    public var privateKeyPEM: String { privateKey.pemRepresentation + "\n" }

    /// The `sha256:<hex>` pin that joining nodes use in `caCertHashes`.
    public var discoveryHash: String {
        get throws(PKIError) { try DiscoveryHash.of(certificateDER: certificateDER) }
    }

    /// Signs a new client certificate for `commonName` in `organizations` (extKeyUsage
    /// clientAuth), valid from `now` minus ``backdate`` for `validity`.
    ///
    /// With `organizations: ["system:masters"]` the API server grants cluster-admin before
    /// any RBAC object exists.
    public func issueClientCertificate(
        commonName: String, organizations: [String], now: Date = Date(),
        validity: TimeInterval = ClusterCA.leafValidity
    ) throws(PKIError) -> ClientCredential {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        return try PKIError.wrapping("issuing a client certificate for \(commonName)") {
            guard let authorityKeyID = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier else {
                throw PKIError.malformedCertificate("the CA certificate has no subjectKeyIdentifier")
            }
            // Go's pkix.Name order: O before CN.
            let subject = try DistinguishedName {
                for organization in organizations {
                    OrganizationName(organization)
                }
                CommonName(commonName)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
            }
            let issued = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - Self.backdate,
                notValidAfter: now + validity,
                issuer: certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(privateKey))
            return ClientCredential(certificate: issued, privateKey: key)
        }
    }

    static func der(_ certificate: Certificate) throws(PKIError) -> [UInt8] {
        try PKIError.wrapping("encoding a certificate") {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
    }

    static func pem(_ certificate: Certificate) throws(PKIError) -> String {
        try PKIError.wrapping("encoding a certificate") { try certificate.serializeAsPEM().pemString + "\n" }
    }
}
