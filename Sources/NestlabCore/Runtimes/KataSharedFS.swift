/// Kata `shared_fs`: how the container rootfs reaches the guest.
public enum KataSharedFS: String, Sendable, Hashable {
    case virtioFS = "virtio-fs"
    case virtio9P = "virtio-9p"
    case none
}
