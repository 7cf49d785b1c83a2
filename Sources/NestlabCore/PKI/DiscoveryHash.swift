import Crypto
import Foundation
import SwiftASN1

/// kubeadm's CA public key pin: `sha256:<hex>` for `discovery.bootstrapToken.caCertHashes`.
///
/// It is the SHA-256 of the certificate's DER SubjectPublicKeyInfo, the whole SPKI with
/// its algorithm identifier, exactly as encoded in the certificate (RFC 7469; kubeadm's
/// `pubkeypin.Hash` hashes Go's `RawSubjectPublicKeyInfo`). The bytes are cut out of the
/// certificate rather than re-encoded, so any key type (RSA, EC, Ed25519) hashes right.
public enum DiscoveryHash {
    /// The pin for a DER-encoded X.509 certificate.
    public static func of(certificateDER der: [UInt8]) throws(PKIError) -> String {
        "sha256:" + hexString(SHA256.hash(data: try subjectPublicKeyInfo(certificateDER: der)))
    }

    /// The pin for the first certificate in a PEM text.
    public static func of(certificatePEM pem: String) throws(PKIError) -> String {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw .malformedCertificate("not a PEM document: \(error)")
        }
        guard document.discriminator == "CERTIFICATE" else {
            throw .malformedCertificate("PEM block is '\(document.discriminator)', expected 'CERTIFICATE'")
        }
        return try of(certificateDER: document.derBytes)
    }

    /// The DER bytes of the certificate's SubjectPublicKeyInfo, as they appear in it.
    ///
    /// RFC 5280: `Certificate ::= SEQUENCE { tbsCertificate, ... }` and
    /// `TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
    /// issuer, validity, subject, subjectPublicKeyInfo, ... }`.
    public static func subjectPublicKeyInfo(certificateDER der: [UInt8]) throws(PKIError) -> ArraySlice<UInt8> {
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw .malformedCertificate("not DER: \(error)")
        }
        guard root.identifier == .sequence, case .constructed(let certificate) = root.content,
            let tbs = certificate.first(where: { _ in true }),
            tbs.identifier == .sequence, case .constructed(let fields) = tbs.content
        else { throw .malformedCertificate("no TBSCertificate sequence") }

        var remaining = Array(fields)
        let version = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
        if remaining.first?.identifier == version {
            remaining.removeFirst()
        }
        // serialNumber, signature, issuer, validity, subject, then the SPKI.
        guard remaining.count > 5 else { throw .malformedCertificate("TBSCertificate has too few fields") }
        let spki = remaining[5]
        guard spki.identifier == .sequence else {
            throw .malformedCertificate("subjectPublicKeyInfo is not a SEQUENCE")
        }
        return spki.encodedBytes
    }
}
