import Foundation
import Yams

/// A kubeconfig with one cluster, one user authenticated by a client certificate, and
/// one context that is also the current one.
///
/// The YAML is built as a Yams node tree and emitted by Yams, so that every value is
/// escaped correctly; keys come in a fixed order so equal inputs give equal files.
public struct Kubeconfig: Sendable, Hashable {
    public var clusterName: String
    /// The API server URL, for example `https://10.77.0.10:6443`.
    public var server: String
    /// PEM of the CA that signed the API server's certificate.
    public var certificateAuthorityPEM: String
    public var userName: String
    /// PEM of the client certificate.
    public var clientCertificatePEM: String
    /// PEM of the client key.
    public var clientKeyPEM: String

    public init(
        clusterName: String, server: String, certificateAuthorityPEM: String,
        userName: String, clientCertificatePEM: String, clientKeyPEM: String
    ) {
        self.clusterName = clusterName
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.userName = userName
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    /// A kubeconfig for `credential`, trusting `ca`.
    public init(clusterName: String, server: String, ca: ClusterCA, userName: String, credential: ClientCredential)
        throws(PKIError)
    {
        self.init(
            clusterName: clusterName, server: server, certificateAuthorityPEM: try ca.certificatePEM,
            userName: userName, clientCertificatePEM: try credential.certificatePEM,
            clientKeyPEM: credential.privateKeyPEM)
    }

    /// The context's name, `user@cluster` as kubeadm names it.
    public var contextName: String { "\(userName)@\(clusterName)" }

    /// The kubeconfig as YAML.
    public func render() throws(PKIError) -> String {
        let root = Self.map([
            ("apiVersion", Self.str("v1")),
            ("kind", Self.str("Config")),
            (
                "clusters",
                Self.namedList(
                    clusterName, "cluster",
                    Self.map([
                        ("server", Self.str(server)),
                        ("certificate-authority-data", Self.base64(certificateAuthorityPEM)),
                    ]))
            ),
            (
                "users",
                Self.namedList(
                    userName, "user",
                    Self.map([
                        ("client-certificate-data", Self.base64(clientCertificatePEM)),
                        ("client-key-data", Self.base64(clientKeyPEM)),
                    ]))
            ),
            (
                "contexts",
                Self.namedList(
                    contextName, "context",
                    Self.map([("cluster", Self.str(clusterName)), ("user", Self.str(userName))]))
            ),
            ("current-context", Self.str(contextName)),
            ("preferences", .mapping(Node.Mapping([], .implicit, .flow))),
        ])
        return try PKIError.wrapping("rendering the kubeconfig") { try Yams.serialize(node: root) }
    }

    private static func map(_ pairs: [(String, Node)]) -> Node {
        .mapping(Node.Mapping(pairs.map { (Node($0.0), $0.1) }))
    }

    /// Yams quotes a string that would otherwise read back as a bool, number or null.
    private static func str(_ value: String) -> Node { .scalar(value.represented()) }

    private static func base64(_ pem: String) -> Node { str(Data(pem.utf8).base64EncodedString()) }

    /// A list of one entry: `- name: NAME` with `KEY: body`, as kubeconfig's clusters, users and contexts are.
    private static func namedList(_ name: String, _ key: String, _ body: Node) -> Node {
        .sequence(Node.Sequence([map([("name", str(name)), (key, body)])]))
    }

    /// Renders and writes the kubeconfig with mode 0600.
    public func write(to url: URL) throws(KubeconfigWriteError) {
        let text: String
        do { text = try render() } catch { throw .render(error) }
        do { try SecretFile.write(text, to: url) } catch { throw .write(error) }
    }
}
