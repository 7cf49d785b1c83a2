/// What can be wrong with the inputs of a node bootstrap.
public enum KubeError: Error, Equatable, CustomStringConvertible {
    /// A Kubernetes version that is not `X.Y.Z`.
    case invalidKubernetesVersion(String)
    /// A kubeadm `v1beta4` config needs Kubernetes 1.31 or later.
    case kubernetesTooOld(String)
    /// A bootstrap token that does not match `[a-z0-9]{6}.[a-z0-9]{16}`.
    case invalidBootstrapToken
    /// A discovery hash that is not `sha256:` and 64 hex digits.
    case invalidDiscoveryHash(String)
    /// A sha256 digest that is not 64 lower-case hex digits.
    case invalidSHA256(artifact: String, value: String)
    /// A URL with a character the artifact list cannot carry.
    case invalidArtifactURL(String)
    /// An IPv4 address or CIDR that does not parse.
    case invalidAddress(field: String, value: String)
    /// An endpoint that is not `HOST:PORT`.
    case invalidEndpoint(String)
    /// A node name that is not a valid Kubernetes node name.
    case invalidNodeName(String)
    /// A cpuset string that does not parse.
    case invalidCPUSet(String)
    /// A kubelet setting that needs another one.
    case kubeletConflict(String)
    /// The control-plane node was given no CA key.
    case missingCAKey
    /// A runtime needs an artifact that was not given.
    case missingArtifact(String)
    /// A runtime option that cannot work with the chosen containerd or hypervisor.
    case unsupportedCombination(String)
    /// An env-file key that is not a shell identifier.
    case invalidEnvKey(String)
    /// An env-file value that contains a NUL byte, which a shell variable cannot hold.
    case invalidEnvValue(key: String)
    /// A node script is missing from the package resources.
    case missingScript(String)

    public var description: String {
        switch self {
        case .invalidKubernetesVersion(let v):
            return "kubernetes version '\(v)' is not X.Y.Z (for example 1.33.1)"
        case .kubernetesTooOld(let v):
            return "kubernetes \(v) is too old: nestlab renders kubeadm v1beta4 configs, which need 1.31 or later"
        case .invalidBootstrapToken:
            return "bootstrap token does not match [a-z0-9]{6}.[a-z0-9]{16}"
        case .invalidDiscoveryHash(let h):
            return "discovery hash '\(h)' is not 'sha256:' followed by 64 hex digits"
        case .invalidSHA256(let artifact, let value):
            return "sha256 of \(artifact) is '\(value)', not 64 lower-case hex digits"
        case .invalidArtifactURL(let url):
            return "artifact URL '\(url)' must be http(s) and contain no whitespace or control characters"
        case .invalidAddress(let field, let value):
            return "\(field) '\(value)' is not a valid IPv4 address or CIDR"
        case .invalidEndpoint(let e):
            return "control-plane endpoint '\(e)' is not HOST:PORT (for example 10.77.0.10:6443)"
        case .invalidNodeName(let n):
            return "node name '\(n)' is not a lower-case DNS name (a-z, 0-9, '-', '.')"
        case .invalidCPUSet(let s):
            return "cpuset '\(s)' is not a list like '0-1,4'"
        case .kubeletConflict(let m):
            return m
        case .missingCAKey:
            return "the control-plane node needs the cluster CA key; only workers go without it"
        case .missingArtifact(let what):
            return "missing artifact: \(what)"
        case .unsupportedCombination(let m):
            return m
        case .invalidEnvKey(let k):
            return "env key '\(k)' is not a shell identifier ([A-Z_][A-Z0-9_]*)"
        case .invalidEnvValue(let k):
            return "env value of \(k) contains a NUL byte, which a shell variable cannot hold"
        case .missingScript(let n):
            return "node script '\(n)' is missing from the package resources"
        }
    }
}
