// Fixed node files: systemd units and small configs. Upstream origins are noted
// per file; they are copied as text, with the paths nestlab installs to.

/// Static node files.
public enum UnitFiles {
    /// kubernetes/release `cmd/krel/templates/latest/kubelet/kubelet.service` (v0.16.2), unchanged.
    public static let kubelet = """
        [Unit]
        Description=kubelet: The Kubernetes Node Agent
        Documentation=https://kubernetes.io/docs/
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStart=/usr/bin/kubelet
        Restart=always
        StartLimitInterval=0
        RestartSec=10

        [Install]
        WantedBy=multi-user.target

        """

    /// kubernetes/release `cmd/krel/templates/latest/kubeadm/10-kubeadm.conf` (v0.16.2), with the
    /// Debian location of the user override file (/etc/default/kubelet, as the .deb ships it).
    public static let kubeadmDropIn = """
        # Note: This dropin only works with kubeadm and kubelet v1.11+
        [Service]
        Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
        Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
        # This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
        EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
        # This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
        # the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
        EnvironmentFile=-/etc/default/kubelet
        ExecStart=
        ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS

        """

    /// containerd's `containerd.service` (release 2.x), for the tarball install in /usr/local.
    public static let containerd = """
        [Unit]
        Description=containerd container runtime
        Documentation=https://containerd.io
        After=network.target dbus.service local-fs.target nestlab-devmapper.service

        [Service]
        ExecStartPre=-/sbin/modprobe overlay
        ExecStart=/usr/local/bin/containerd

        Type=notify
        Delegate=yes
        KillMode=process
        Restart=always
        RestartSec=5

        # Having non-zero Limit*s causes performance problems due to accounting overhead
        # in the kernel. We recommend using cgroups to do container-local accounting.
        LimitNPROC=infinity
        LimitCORE=infinity

        # Comment TasksMax if your systemd version does not supports it.
        # Only systemd 226 and above support this version.
        TasksMax=infinity
        OOMScoreAdjust=-999

        [Install]
        WantedBy=multi-user.target

        """

    /// Re-attaches the loop-backed thin pool at boot, before containerd (loop devices do not persist).
    public static let devmapper = """
        [Unit]
        Description=nestlab devmapper thin pool for containerd
        DefaultDependencies=no
        After=local-fs.target systemd-udevd.service
        Before=containerd.service

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/usr/local/lib/nestlab/devmapper-pool.sh create

        [Install]
        WantedBy=multi-user.target

        """

    /// kubeadm's prerequisites (Kubernetes docs, "Container Runtimes": forwarding IPv4 and
    /// letting iptables see bridged traffic, needed by flannel and kube-proxy).
    public static let sysctl = """
        # Set by nestlab for Kubernetes.
        net.ipv4.ip_forward = 1
        net.bridge.bridge-nf-call-iptables = 1
        net.bridge.bridge-nf-call-ip6tables = 1

        """

    /// crictl talks to containerd.
    public static let crictl = """
        runtime-endpoint: unix:///run/containerd/containerd.sock
        image-endpoint: unix:///run/containerd/containerd.sock
        timeout: 10

        """
}
