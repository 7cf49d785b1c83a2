import Foundation

/// The base image (and direct-boot kernel and initrd) on a host.
public struct BaseVolumeRef: Sendable, Hashable {
    public var disk: VolumeRef
    public var format: Image.Format
    public var kernel: VolumeRef?
    public var initrd: VolumeRef?
    public var identity: String { disk.identity }

    public init(disk: VolumeRef, format: Image.Format, kernel: VolumeRef? = nil, initrd: VolumeRef? = nil) {
        self.disk = disk
        self.format = format
        self.kernel = kernel
        self.initrd = initrd
    }
}
