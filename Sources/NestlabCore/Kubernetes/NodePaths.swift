/// Paths on the node; shared by the renderer and the scripts (which hard-code the same).
public enum NodePaths {
    public static let scripts = "/usr/local/lib/nestlab"
    public static let etc = "/etc/nestlab"
    public static let state = "/var/lib/nestlab"
    public static let env = "/etc/nestlab/node.env"
    public static let artifacts = "/etc/nestlab/artifacts"
    public static let containerdConfig = "/etc/nestlab/containerd/config.toml"
    public static let kubeadmInit = "/etc/nestlab/kubeadm/init.yaml"
    public static let kubeadmJoin = "/etc/nestlab/kubeadm/join.yaml"
    public static let caCert = "/etc/nestlab/pki/ca.crt"
    public static let caKey = "/etc/nestlab/pki/ca.key"
    public static let manifests = "/etc/nestlab/manifests"
    public static let smoke = "/etc/nestlab/manifests/smoke"
    public static let kataKnobs = "/etc/nestlab/kata"
}
