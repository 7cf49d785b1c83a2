/// TLS material for a transfer. Verification of the server is never turned off.
struct TLSSettings: Sendable, Hashable {
    var caFile: String?
    var clientCertificate: String?
    var clientKey: String?
}
