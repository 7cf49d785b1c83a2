import Crypto
import Foundation
import Testing
import Yams

@testable import NestlabCore

/// Cluster PKI, bootstrap token, kubeconfig, secret files and the lab SSH key, checked
/// against kubeadm's own known answers and against openssl, ssh-keygen and kubectl.
@Suite struct PKITests {
    // MARK: discovery hash

    static let pubkeypinDir: URL = {
        if let url = Bundle.module.url(forResource: "Fixtures/pubkeypin", withExtension: nil) { return url }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pubkeypin")
    }()

    /// Every `NAME.sha256` fixture is kubeadm's expected pin for `NAME.pem`
    /// (cmd/kubeadm/app/util/pubkeypin/pubkeypin_test.go; see the README there).
    @Test func discoveryHashMatchesKubeadmKnownAnswers() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.pubkeypinDir.path)
        let vectors = files.filter { $0.hasSuffix(".sha256") }.sorted()
        try #require(!vectors.isEmpty, "no known-answer vectors found in \(Self.pubkeypinDir.path)")
        for vector in vectors {
            let name = String(vector.dropLast(".sha256".count))
            let expected = try String(contentsOf: Self.pubkeypinDir.appendingPathComponent(vector), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let pem = try String(contentsOf: Self.pubkeypinDir.appendingPathComponent(name + ".pem"), encoding: .utf8)
            #expect(try DiscoveryHash.of(certificatePEM: pem) == expected, "vector \(name)")
        }
    }

    /// kubeadm's TestSet pins testCert and expects testCert2 to be refused: their pins differ.
    /// testCert2's own pin is checked against openssl (kubeadm publishes none for it).
    @Test func secondKubeadmCertificateHasADifferentPin() throws {
        let cert2 = Self.pubkeypinDir.appendingPathComponent("testCert2.pem")
        let pin2 = try DiscoveryHash.of(certificatePEM: String(contentsOf: cert2, encoding: .utf8))
        let pin1 = try String(contentsOf: Self.pubkeypinDir.appendingPathComponent("testCert.sha256"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pin2 != pin1)
        #expect(pin2 == "sha256:" + (try Self.opensslPin(certificate: cert2)))
    }

    @Test func discoveryHashRejectsWhatIsNotACertificate() {
        #expect(throws: PKIError.self) { try DiscoveryHash.of(certificateDER: [0x30, 0x03, 0x02, 0x01, 0x01]) }
        #expect(throws: PKIError.self) { try DiscoveryHash.of(certificateDER: []) }
        #expect(throws: PKIError.self) {
            try DiscoveryHash.of(certificatePEM: "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n")
        }
    }

    // MARK: CA and admin certificate

    @Test func caIsWhatKubeadmExpects() throws {
        let dir = try ScratchDir()
        let ca = try ClusterCA.generate()
        let crt = dir.url.appendingPathComponent("ca.crt")
        let key = dir.url.appendingPathComponent("ca.key")
        try SecretFile.write(try ca.certificatePEM, to: crt, mode: 0o644)
        try SecretFile.write(ca.privateKeyPEM, to: key)

        let text = try ToolRun.run("openssl", "x509", "-noout", "-text", "-in", crt.path)
        #expect(text.contains("Subject: CN = kubernetes\n"))
        #expect(text.contains("Issuer: CN = kubernetes\n"))
        #expect(text.contains("Public Key Algorithm: id-ecPublicKey"))
        #expect(text.contains("NIST CURVE: P-256"))
        #expect(text.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(text.contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n"))
        #expect(
            text.contains("X509v3 Key Usage: critical\n                Digital Signature, Certificate Sign, CRL Sign\n")
        )
        #expect(text.contains("X509v3 Subject Key Identifier:"))

        // Valid for ten years, not a day less and not much more.
        let tenYears = 10 * 365 * 86400
        #expect(
            try ToolRun.status("openssl", "x509", "-noout", "-checkend", "\(tenYears - 3600)", "-in", crt.path).code
                == 0)
        #expect(
            try ToolRun.status("openssl", "x509", "-noout", "-checkend", "\(tenYears + 3600)", "-in", crt.path).code
                == 1)

        // The key file is PKCS#8 "PRIVATE KEY", openssl reads it, and it belongs to the certificate.
        #expect(ca.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let keyPub = try ToolRun.run("openssl", "pkey", "-in", key.path, "-pubout")
        let certPub = try ToolRun.run("openssl", "x509", "-noout", "-pubkey", "-in", crt.path)
        #expect(keyPub == certPub)
        #expect(try Self.mode(key) == 0o600)
    }

    /// kubeadm's documented way to compute the pin must give our discovery hash.
    @Test func discoveryHashEqualsOpensslPipeline() throws {
        let dir = try ScratchDir()
        let ca = try ClusterCA.generate()
        let crt = try dir.write("ca.crt", Data(try ca.certificatePEM.utf8))
        let hash = try ca.discoveryHash
        #expect(hash == "sha256:" + (try Self.opensslPin(certificate: crt)))
        #expect(hash.wholeMatch(of: /sha256:[0-9a-f]{64}/) != nil)
    }

    @Test func adminCertificateIsSignedByTheCAForSystemMasters() throws {
        let dir = try ScratchDir()
        let ca = try ClusterCA.generate()
        let admin = try ca.issueClientCertificate(commonName: "nestlab-admin", organizations: ["system:masters"])
        let caCrt = try dir.write("ca.crt", Data(try ca.certificatePEM.utf8))
        let crt = try dir.write("admin.crt", Data(try admin.certificatePEM.utf8))
        let key = dir.url.appendingPathComponent("admin.key")
        try SecretFile.write(admin.privateKeyPEM, to: key)

        #expect(try ToolRun.run("openssl", "verify", "-CAfile", caCrt.path, crt.path) == "\(crt.path): OK\n")
        #expect(
            try ToolRun.run("openssl", "verify", "-purpose", "sslclient", "-CAfile", caCrt.path, crt.path)
                == "\(crt.path): OK\n")
        #expect(
            try ToolRun.run("openssl", "x509", "-noout", "-subject", "-in", crt.path)
                == "subject=O = system:masters, CN = nestlab-admin\n")

        let text = try ToolRun.run("openssl", "x509", "-noout", "-text", "-in", crt.path)
        #expect(text.contains("X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n"))
        #expect(text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE\n"))
        #expect(text.contains("X509v3 Authority Key Identifier:"))

        let oneYear = 365 * 86400
        #expect(
            try ToolRun.status("openssl", "x509", "-noout", "-checkend", "\(oneYear - 3600)", "-in", crt.path).code == 0
        )
        #expect(
            try ToolRun.status("openssl", "x509", "-noout", "-checkend", "\(oneYear + 3600)", "-in", crt.path).code == 1
        )

        let keyPub = try ToolRun.run("openssl", "pkey", "-in", key.path, "-pubout")
        #expect(keyPub == (try ToolRun.run("openssl", "x509", "-noout", "-pubkey", "-in", crt.path)))

        // A certificate from another CA must not verify: the check above can fail.
        let other = try ClusterCA.generate()
        let otherCrt = try dir.write("other.crt", Data(try other.certificatePEM.utf8))
        #expect(try ToolRun.status("openssl", "verify", "-CAfile", otherCrt.path, crt.path).code != 0)
    }

    @Test func caLoadsBackFromPKCS8AndSEC1() throws {
        let dir = try ScratchDir()
        let ca = try ClusterCA.generate()
        let loaded = try ClusterCA(certificatePEM: try ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        #expect(try loaded.discoveryHash == (try ca.discoveryHash))
        #expect(loaded.privateKey.rawRepresentation == ca.privateKey.rawRepresentation)

        // openssl's "EC PRIVATE KEY" (SEC1), which kubeadm also accepts.
        let key = try dir.write("ca.key", Data(ca.privateKeyPEM.utf8))
        let sec1 = try ToolRun.run("openssl", "ec", "-in", key.path)
        #expect(sec1.hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
        let fromSEC1 = try ClusterCA(certificatePEM: try ca.certificatePEM, privateKeyPEM: sec1)
        #expect(fromSEC1.privateKey.rawRepresentation == ca.privateKey.rawRepresentation)

        let other = try ClusterCA.generate()
        #expect(throws: PKIError.self) {
            try ClusterCA(certificatePEM: try ca.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
    }

    // MARK: bootstrap token

    @Test func bootstrapTokensMatchKubeadmsFormat() throws {
        var seen = Set<String>()
        for _ in 0..<500 {
            let token = BootstrapToken.generate()
            #expect(token.value.wholeMatch(of: /[a-z0-9]{6}\.[a-z0-9]{16}/) != nil, "bad token \(token.value)")
            #expect(try BootstrapToken(token.value) == token)
            seen.insert(token.value)
        }
        #expect(seen.count == 500)
        let token = try BootstrapToken("abcdef.0123456789abcdef")
        #expect(token.id == "abcdef")
        #expect(token.secret == "0123456789abcdef")
        #expect("\(token)" == "abcdef.<redacted>")
        for bad in [
            "abcdef0123456789abcdef", "ABCDEF.0123456789abcdef", "abcde.0123456789abcdef",
            "abcdef.0123456789abcde", "abcdef.0123456789abcdef.", "abcdef.0123456789abcde-", "",
        ] {
            #expect(throws: PKIError.self, "accepted \(bad)") { try BootstrapToken(bad) }
        }
    }

    // MARK: secret files

    @Test func secretFilesAreCreated0600AndReplacedAtomically() throws {
        let dir = try ScratchDir()
        let file = dir.url.appendingPathComponent("token")
        try SecretFile.write("first", to: file)
        #expect(try Self.mode(file) == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8) == "first")

        // An existing world-readable file is replaced by a 0600 one, not chmod-ed.
        let loose = dir.url.appendingPathComponent("loose")
        try Data("old".utf8).write(to: loose)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: loose.path)
        let inodeBefore = try FileManager.default.attributesOfItem(atPath: loose.path)[.systemFileNumber] as? Int
        try SecretFile.write(Data("new".utf8), to: loose)
        #expect(try Self.mode(loose) == 0o600)
        #expect(try Data(contentsOf: loose) == Data("new".utf8))
        let inodeAfter = try FileManager.default.attributesOfItem(atPath: loose.path)[.systemFileNumber] as? Int
        #expect(inodeBefore != inodeAfter)

        try SecretFile.write(Data(), to: dir.url.appendingPathComponent("empty"))
        #expect(try Data(contentsOf: dir.url.appendingPathComponent("empty")).isEmpty)

        // No temporary files are left behind.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["empty", "loose", "token"])
    }

    /// `update` leaves a file that already is exactly what it would write (same inode, no
    /// temporary file), and replaces it for every other difference: bytes, length, mode, a link
    /// in its place, or none there.
    @Test func secretFileUpdateWritesOnlyWhatDiffers() throws {
        let dir = try ScratchDir()
        let file = dir.url.appendingPathComponent("known_hosts")
        func inode(_ u: URL) throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: u.path)[.systemFileNumber] as? Int
        }
        #expect(try SecretFile.update(Data("a\n".utf8), at: file), "no file: written")
        let first = try inode(file)
        #expect(try !SecretFile.update(Data("a\n".utf8), at: file), "same bytes and mode: left")
        #expect(try inode(file) == first)
        #expect(try SecretFile.update(Data("b\n".utf8), at: file), "same length, other bytes")
        #expect(try Data(contentsOf: file) == Data("b\n".utf8))
        #expect(try SecretFile.update(Data("b\nc\n".utf8), at: file), "longer")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        #expect(try SecretFile.update(Data("b\nc\n".utf8), at: file), "same bytes, mode 0644: replaced")
        #expect(try Self.mode(file) == 0o600)
        // A link to a file with the same bytes is replaced by a file, not followed.
        let target = dir.url.appendingPathComponent("elsewhere")
        try SecretFile.write("b\nc\n", to: target)
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createSymbolicLink(at: file, withDestinationURL: target)
        #expect(try SecretFile.update(Data("b\nc\n".utf8), at: file))
        let type = try FileManager.default.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType
        #expect(type == .typeRegular)
        #expect(try String(contentsOf: target, encoding: .utf8) == "b\nc\n", "the link's target is untouched")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["elsewhere", "known_hosts"])
    }

    @Test func secretFileErrorsKeepErrno() throws {
        let dir = try ScratchDir()
        let missing = dir.url.appendingPathComponent("no/such/dir/file")
        do {
            try SecretFile.write("x", to: missing)
            Issue.record("writing into a missing directory succeeded")
        } catch {
            guard case .system(let operation, let path, let code) = error else { return }
            #expect(operation == "create")
            #expect(path.hasPrefix(dir.url.path + "/no/such/dir/.file.tmp-"))
            #expect(code == ENOENT)
            #expect(error.description.contains("No such file or directory (errno 2)"))
        }
    }

    @Test func privateDirectoriesAre0700() throws {
        let dir = try ScratchDir()
        let nested = dir.url.appendingPathComponent("state/nestlab/lab")
        try SecretFile.createPrivateDirectory(at: nested)
        #expect(try Self.mode(nested) == 0o700)
        #expect(try Self.mode(dir.url.appendingPathComponent("state")) == 0o700)
        try SecretFile.createPrivateDirectory(at: nested)  // idempotent
    }

    // MARK: kubeconfig

    @Test func kubeconfigRendersInAStableOrder() throws {
        let config = Kubeconfig(
            clusterName: "nested", server: "https://10.77.0.10:6443", certificateAuthorityPEM: "CA",
            userName: "nestlab-admin", clientCertificatePEM: "CERT", clientKeyPEM: "KEY")
        #expect(
            try config.render() == """
                apiVersion: v1
                kind: Config
                clusters:
                - name: nested
                  cluster:
                    server: https://10.77.0.10:6443
                    certificate-authority-data: Q0E=
                users:
                - name: nestlab-admin
                  user:
                    client-certificate-data: Q0VSVA==
                    client-key-data: S0VZ
                contexts:
                - name: nestlab-admin@nested
                  context:
                    cluster: nested
                    user: nestlab-admin
                current-context: nestlab-admin@nested
                preferences: {}

                """)
    }

    /// Names that YAML would read as other types or that need quoting come back as strings.
    @Test func kubeconfigEscapesAwkwardNames() throws {
        let config = Kubeconfig(
            clusterName: "true", server: "https://[fd00::1]:6443", certificateAuthorityPEM: "CA",
            userName: "a: b #c", clientCertificatePEM: "CERT", clientKeyPEM: "KEY")
        let parsed = try #require(try Yams.load(yaml: config.render()) as? [String: Any])
        let clusters = try #require(parsed["clusters"] as? [[String: Any]])
        #expect(clusters.first?["name"] as? String == "true")
        #expect(parsed["current-context"] as? String == "a: b #c@true")
        let cluster = try #require(clusters.first?["cluster"] as? [String: Any])
        #expect(cluster["server"] as? String == "https://[fd00::1]:6443")
    }

    /// kubectl reads the written file and finds the same credentials in it.
    @Test func kubectlReadsTheKubeconfig() throws {
        let dir = try ScratchDir()
        let ca = try ClusterCA.generate()
        let admin = try ca.issueClientCertificate(commonName: "nestlab-admin", organizations: ["system:masters"])
        let config = try Kubeconfig(
            clusterName: "nested", server: "https://10.77.0.10:6443", ca: ca, userName: "nestlab-admin",
            credential: admin)
        let file = dir.url.appendingPathComponent("admin.kubeconfig")
        try config.write(to: file)
        #expect(try Self.mode(file) == 0o600)

        func view(_ path: String) throws -> String {
            try ToolRun.run("kubectl", "config", "view", "--kubeconfig", file.path, "--raw", "-o", "jsonpath=\(path)")
        }
        #expect(try view("{.current-context}") == "nestlab-admin@nested")
        #expect(try view("{.clusters[0].cluster.server}") == "https://10.77.0.10:6443")
        let caData = try #require(Data(base64Encoded: try view("{.clusters[0].cluster.certificate-authority-data}")))
        #expect(String(decoding: caData, as: UTF8.self) == (try ca.certificatePEM))
        let keyData = try #require(Data(base64Encoded: try view("{.users[0].user.client-key-data}")))
        #expect(String(decoding: keyData, as: UTF8.self) == admin.privateKeyPEM)
        let certData = try #require(Data(base64Encoded: try view("{.users[0].user.client-certificate-data}")))
        #expect(String(decoding: certData, as: UTF8.self) == (try admin.certificatePEM))
    }

    // MARK: SSH key

    @Test func sshKeygenDerivesOurPublicKey() throws {
        let dir = try ScratchDir()
        let key = SSHKey(comment: "nestlab@lab")
        let paths = try key.write(to: dir.url)
        #expect(try Self.mode(paths.privateKey) == 0o600)
        #expect(try String(contentsOf: paths.publicKey, encoding: .utf8) == key.authorizedKey + "\n")

        let derived = try ToolRun.run("ssh-keygen", "-y", "-f", paths.privateKey.path)
        let ours = key.authorizedKey.split(separator: " ").prefix(2)
        #expect(derived.split(whereSeparator: \.isWhitespace).prefix(2) == ours)
        #expect(key.authorizedKey.hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"))

        let fromPublic = try ToolRun.run("ssh-keygen", "-l", "-f", paths.publicKey.path)
        let fromPrivate = try ToolRun.run("ssh-keygen", "-l", "-f", paths.privateKey.path)
        #expect(fromPublic.hasSuffix(" nestlab@lab (ED25519)\n"))
        #expect(fromPublic.split(separator: " ")[1] == fromPrivate.split(separator: " ")[1])
    }

    /// OpenSSH signs with our private key file, and the signature verifies against our public key.
    @Test func opensshSignsWithOurKey() throws {
        let dir = try ScratchDir()
        let key = SSHKey(comment: "signer")
        let paths = try key.write(to: dir.url)
        let message = try dir.write("message", Data("hello lab\n".utf8))
        _ = try ToolRun.run(
            "ssh-keygen", "-q", "-Y", "sign", "-f", paths.privateKey.path, "-n", "nestlab", message.path)
        let signers = try dir.write("allowed_signers", Data("lab@nestlab \(key.authorizedKey)\n".utf8))
        let verify = try ToolRun.run(
            "ssh-keygen", "-Y", "verify", "-f", signers.path, "-I", "lab@nestlab", "-n", "nestlab",
            "-s", message.path + ".sig", stdin: Data("hello lab\n".utf8))
        #expect(verify.contains("Good \"nestlab\" signature for lab@nestlab"))
    }

    @Test func loadsKeysThatSshKeygenMade() throws {
        let dir = try ScratchDir()
        let path = dir.url.appendingPathComponent("id_ed25519").path
        _ = try ToolRun.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "made by ssh-keygen", "-f", path)
        let key = try SSHKey(openSSHPrivateKey: String(contentsOfFile: path, encoding: .utf8))
        #expect(key.comment == "made by ssh-keygen")
        #expect(key.authorizedKey + "\n" == (try String(contentsOfFile: path + ".pub", encoding: .utf8)))
    }

    @Test func privateKeyFormatRoundTripsAndIsStable() throws {
        let key = SSHKey(comment: "round trip")
        let text = key.openSSHPrivateKey(checkInt: 0x1234_5678)
        #expect(text == key.openSSHPrivateKey(checkInt: 0x1234_5678))
        #expect(text.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
        #expect(text.hasSuffix("\n-----END OPENSSH PRIVATE KEY-----\n"))
        let body = text.split(separator: "\n").dropFirst().dropLast()
        #expect(body.dropLast().allSatisfy { $0.count == 70 })
        let loaded = try SSHKey(openSSHPrivateKey: text)
        #expect(loaded.privateKey.rawRepresentation == key.privateKey.rawRepresentation)
        #expect(loaded.authorizedKey == key.authorizedKey)
    }

    @Test func rejectsKeysItCannotUse() throws {
        let dir = try ScratchDir()
        let encrypted = dir.url.appendingPathComponent("enc").path
        _ = try ToolRun.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-passphrase", "-f", encrypted)
        #expect(throws: SSHKeyError.encrypted(cipher: "aes256-ctr")) {
            try SSHKey(openSSHPrivateKey: String(contentsOfFile: encrypted, encoding: .utf8))
        }
        let ecdsa = dir.url.appendingPathComponent("ecdsa").path
        _ = try ToolRun.run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa)
        #expect(throws: SSHKeyError.unsupportedKeyType("ecdsa-sha2-nistp256")) {
            try SSHKey(openSSHPrivateKey: String(contentsOfFile: ecdsa, encoding: .utf8))
        }
        #expect(throws: SSHKeyError.notOpenSSHPrivateKey) { try SSHKey(openSSHPrivateKey: "hello") }

        // A truncated body fails cleanly instead of crashing.
        let text = SSHKey(comment: "x").openSSHPrivateKey()
        var lines = text.split(separator: "\n").map(String.init)
        lines.remove(at: 2)
        #expect(throws: SSHKeyError.self) { try SSHKey(openSSHPrivateKey: lines.joined(separator: "\n")) }
    }

    // MARK: helpers

    static func mode(_ url: URL) throws -> Int {
        let permissions = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        return try #require(permissions) & 0o777
    }

    /// `openssl x509 -noout -pubkey -in F | openssl pkey -pubin -outform der | sha256sum`, in hex.
    static func opensslPin(certificate: URL) throws -> String {
        let pub = try ToolRun.runData("openssl", "x509", "-noout", "-pubkey", "-in", certificate.path)
        let der = try ToolRun.runData("openssl", "pkey", "-pubin", "-outform", "der", stdin: pub)
        let sum = try ToolRun.run("sha256sum", stdin: der)
        return String(sum.prefix(64))
    }
}
