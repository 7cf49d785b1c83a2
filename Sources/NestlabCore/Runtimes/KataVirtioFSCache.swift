/// Kata `virtio_fs_cache` (virtiofsd `--cache`), the four modes configuration-qemu.toml.in lists.
public enum KataVirtioFSCache: String, Sendable, Hashable {
    case never, metadata, auto, always
}
