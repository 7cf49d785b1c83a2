/// A cluster's secrets, made by nestlab before any VM exists.
public struct ClusterMaterial: Sendable {
    public var token: String
    public var caCertificatePEM: String
    public var caKeyPEM: String
    public var discoveryHash: String

    public init(token: String, caCertificatePEM: String, caKeyPEM: String, discoveryHash: String) {
        self.token = token
        self.caCertificatePEM = caCertificatePEM
        self.caKeyPEM = caKeyPEM
        self.discoveryHash = discoveryHash
    }
}
