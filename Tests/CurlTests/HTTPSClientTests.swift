import Foundation
import Testing

@testable import Curl

/// What the test server's /echo endpoint answers.
// Keys as the test server writes them.
// swift-format-ignore: AlwaysUseLowerCamelCase
private struct Echo: Decodable {
    var method: String
    var path: String
    var headers: [String: String]
    var body: String
    var client_subject: [String: String]?
}

@Suite("HTTPS client with client certificates")
struct HTTPSClientTests {
    private func configuration(
        _ pki: TestPKI, ca: String? = nil, cert: String?? = .none,
        key: String?? = .none
    ) -> HTTPSClient.Configuration {
        HTTPSClient.Configuration(
            caFile: ca ?? pki.caCert,
            clientCertificate: cert ?? pki.clientCert,
            clientKey: key ?? pki.clientKey,
            connectTimeout: .seconds(5), timeout: .seconds(10), proxy: .none)
    }

    @Test("GET and POST succeed with the client certificate, which the server sees")
    func success() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let client = HTTPSClient(configuration(pki))

        let get = try await client.get(server.url("/echo"), headers: ["Accept": "application/json"])
        let getEcho = try JSONDecoder().decode(Echo.self, from: get.body)
        #expect(get.status == 200)
        #expect(get.header("content-type") == "application/json")
        #expect(getEcho.method == "GET")
        #expect(getEcho.headers["accept"] == "application/json")
        #expect(getEcho.client_subject?["commonName"] == "kubernetes-admin")
        #expect(getEcho.client_subject?["organizationName"] == "system:masters")

        let post = try await client.post(server.url("/echo"), body: Data(#"{"kind":"Node"}"#.utf8))
        let postEcho = try JSONDecoder().decode(Echo.self, from: post.body)
        #expect(postEcho.method == "POST")
        #expect(postEcho.body == #"{"kind":"Node"}"#)
        #expect(postEcho.headers["content-type"] == "application/json")
    }

    @Test("an HTTP error status is returned, and requireSuccess turns it into a clear error")
    func statusIsReturned() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let url = server.url("/status/500")

        let response = try await HTTPSClient(configuration(pki)).get(url)

        #expect(response.status == 500)
        #expect(response.text == "status 500\n")
        #expect(throws: CurlError.httpStatus(status: 500, url: url.absoluteString, attempts: 1)) {
            try response.requireSuccess()
        }
        #expect(
            CurlError.httpStatus(status: 500, url: url.absoluteString, attempts: 1).description
                == "http 500 for \(url.absoluteString) (internal server error)")
    }

    @Test("a server certificate from another CA is reported as untrusted by the given CA file")
    func wrongCA() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let url = server.url("/readyz")

        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration(pki, ca: pki.otherCACert)).get(url)
        }
        #expect(failure.reason == .serverCertificateUntrusted)
        #expect(failure.code == 60)
        #expect(
            failure.description.hasPrefix(
                "server certificate for \(url.absoluteString) is not trusted by CA file \(pki.otherCACert) (curl error 60: "
            ))
    }

    @Test("no client certificate: the server's demand for one is reported as such")
    func missingClientCertificate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let url = server.url("/readyz")

        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration(pki, cert: .some(nil), key: .some(nil))).get(url)
        }
        // TLS 1.3 sends the server's verdict after the handshake; whether libcurl reads the
        // alert or sees only the reset depends on timing, and both must be clear.
        #expect([.clientCertificateRequired, .closedAfterTLSHandshake].contains(failure.reason))
        #expect(failure.description.hasPrefix("server \(url.absoluteString) "))
        #expect(failure.description.contains("requires a client certificate"))
        #expect(failure.description.contains("none was sent"))
        #expect(try server.requests().contains { $0.tls_error?.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") == true })
    }

    @Test("a client certificate from an unknown CA is reported as rejected")
    func rejectedClientCertificate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let url = server.url("/readyz")

        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration(pki, cert: pki.otherClientCert, key: pki.otherClientKey)).get(url)
        }
        #expect([.clientCertificateRejected, .closedAfterTLSHandshake].contains(failure.reason))
        #expect(failure.description.hasPrefix("server \(url.absoluteString) "))
        #expect(failure.description.contains("rejected the client certificate \(pki.otherClientCert)"))
    }

    @Test("an unreadable client key is reported before anything is sent")
    func unusableClientKey() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        defer { server.stop() }
        let missing = scratch.path("no-such.key").path

        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration(pki, key: missing)).get(server.url("/readyz"))
        }
        #expect(failure.reason == .clientCertificateUnusable)
        #expect(failure.code == 58)
        #expect(
            failure.description.contains("cannot load the client certificate or key \(pki.clientCert) / \(missing)"))
    }

    @Test("nothing listening is connection refused")
    func connectionRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pki = try await TestPKI.make(in: scratch)
        let server = try await LocalServer.start(in: scratch, tls: pki.serverTLS)
        let url = server.url("/readyz")
        server.stop()

        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration(pki)).get(url)
        }
        #expect(failure.reason == .connectionRefused)
        #expect(failure.description.hasPrefix("connection refused for \(url.absoluteString) (curl error 7: "))
    }

    @Test("a server that never answers hits the request timeout")
    func timeout() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await LocalServer.start(in: scratch)
        defer { server.stop() }
        try server.serve("s", testBytes(1000))
        let url = server.url("/stall/s")
        var configuration = HTTPSClient.Configuration(timeout: .seconds(1), proxy: .none)
        configuration.connectTimeout = .seconds(1)

        let start = ContinuousClock.now
        let failure = try await expectTransferFailure {
            try await HTTPSClient(configuration).get(url)
        }
        #expect(failure.reason == .timedOut)
        #expect(failure.code == 28)
        #expect(failure.description.hasPrefix("timed out fetching \(url.absoluteString) (curl error 28: "))
        // curl's error 28 above proves the 1 s timeout fired; the bound only catches a hang, and is
        // loose because a loaded CI machine can hold a test back for seconds.
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}

@Suite("TLS failure classification")
struct TLSClassificationTests {
    let url = "https://10.77.0.10:6443/readyz"

    @Test("alerts in curl's error buffer name the client-certificate problem")
    func alerts() {
        let noCert = TLSSettings(caFile: "/ca.pem")
        let withCert = TLSSettings(caFile: "/ca.pem", clientCertificate: "/admin.pem", clientKey: "/admin.key")
        let required = TransferFailure.classify(
            rawCode: 56,
            detail: "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0",
            url: url, status: nil, tls: noCert, handshakeCompleted: true)
        #expect(required.reason == .clientCertificateRequired)
        let rejected = TransferFailure.classify(
            rawCode: 56, detail: "OpenSSL SSL_read: error:0A000418:SSL routines::tlsv1 alert unknown ca, errno 0",
            url: url, status: nil, tls: withCert, handshakeCompleted: true)
        #expect(rejected.reason == .clientCertificateRejected)
        #expect(
            rejected.description.hasPrefix("server \(url) rejected the client certificate /admin.pem (curl error 56: "))
    }

    @Test("a reset right after the handshake, with no alert, is still explained")
    func resetAfterHandshake() {
        let withCert = TLSSettings(caFile: "/ca.pem", clientCertificate: "/admin.pem", clientKey: "/admin.key")
        let failure = TransferFailure.classify(
            rawCode: 55, detail: "getpeername() failed with errno 107: Transport endpoint is not connected",
            url: url, status: nil, tls: withCert, handshakeCompleted: true)
        #expect(failure.reason == .closedAfterTLSHandshake)
        #expect(
            failure.description == "server \(url) closed the connection after the tls handshake without answering: "
                + "it probably rejected the client certificate /admin.pem (curl error 55: Failed sending data to the peer: "
                + "getpeername() failed with errno 107: Transport endpoint is not connected)")
        let plain = TransferFailure.classify(
            rawCode: 55, detail: "Connection reset by peer", url: url, status: nil,
            tls: withCert, handshakeCompleted: false)
        #expect(plain.reason == .connectionLost)
    }
}

/// Runs `body`, expecting a ``CurlError/transfer(_:)``, and returns its failure.
func expectTransferFailure(
    _ body: () async throws -> some Any,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> TransferFailure {
    do {
        _ = try await body()
    } catch CurlError.transfer(let failure) {
        return failure
    } catch {
        throw TestFailure("expected a transfer failure, got \(error)")
    }
    throw TestFailure("expected a transfer failure, but the request succeeded")
}
