/// Settings shared by every request the module makes.
struct RequestSettings: Sendable {
    var connectTimeout: Duration
    /// Whole-transfer limit; nil for none (large downloads rely on the low-speed limit).
    var timeout: Duration?
    var lowSpeedLimit: Int?
    var lowSpeedTime: Duration?
    var proxy: ProxyPolicy
    var tls: TLSSettings
    var userAgent: String
    var bufferSize: Int?
    var acceptEncoding: Bool
}
