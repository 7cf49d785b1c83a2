/// How a transfer chooses a proxy.
public enum ProxyPolicy: Sendable, Hashable {
    /// libcurl's own environment handling: `http_proxy`, `https_proxy`, `HTTPS_PROXY`,
    /// `ALL_PROXY` and `no_proxy` (libcurl ignores upper-case `HTTP_PROXY` on purpose).
    case environment
    /// Never use a proxy, whatever the environment says (for lab-internal addresses).
    case none
    /// Use this proxy URL.
    case url(String)
}
