import Foundation

/// Certificates made with the `openssl` CLI for the HTTPS tests: a CA with a server cert
/// for 127.0.0.1 and a client cert, and an unrelated CA with its own client cert.
struct TestPKI {
    let caCert: String
    let serverCert: String
    let serverKey: String
    let clientCert: String
    let clientKey: String
    let otherCACert: String
    let otherClientCert: String
    let otherClientKey: String

    /// Makes the certificates; the openssl runs happen off the cooperative pool.
    static func make(in scratch: Scratch) async throws -> TestPKI {
        try await onThread { Result { try TestPKI(in: scratch) } }.get()
    }

    private init(in scratch: Scratch) throws {
        let dir = scratch.path("pki")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

        func makeCA(_ name: String) throws {
            try run(
                "openssl",
                ["req", "-x509"] + curve + [
                    "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2",
                    "-subj", "/CN=\(name)",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        func makeLeaf(_ name: String, subject: String, signer: String, extensions: String, serial: Int) throws {
            try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            try run(
                "openssl",
                ["req", "-new"] + curve + [
                    "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject,
                ])
            try run(
                "openssl",
                [
                    "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(signer).pem"),
                    "-CAkey", path("\(signer).key"), "-set_serial", String(serial), "-days", "2",
                    "-out", path("\(name).pem"), "-extfile", path("\(name).ext"),
                ])
        }

        try makeCA("test-ca")
        try makeCA("other-ca")
        try makeLeaf(
            "server", subject: "/CN=127.0.0.1", signer: "test-ca",
            extensions: "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            serial: 2)
        let clientExtensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
        try makeLeaf(
            "client", subject: "/O=system:masters/CN=kubernetes-admin", signer: "test-ca",
            extensions: clientExtensions, serial: 3)
        try makeLeaf(
            "other-client", subject: "/CN=intruder", signer: "other-ca",
            extensions: clientExtensions, serial: 4)

        caCert = path("test-ca.pem")
        serverCert = path("server.pem")
        serverKey = path("server.key")
        clientCert = path("client.pem")
        clientKey = path("client.key")
        otherCACert = path("other-ca.pem")
        otherClientCert = path("other-client.pem")
        otherClientKey = path("other-client.key")
    }

    /// The server's TLS files, requiring client certificates signed by the test CA.
    var serverTLS: ServerTLS {
        ServerTLS(certificate: serverCert, key: serverKey, clientCA: caCert)
    }
}
