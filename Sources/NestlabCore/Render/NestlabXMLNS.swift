/// nestlab's XML namespace for libvirt `<metadata>`.
public enum NestlabXMLNS {
    public static let uri = "http://nestlab.dev/xmlns/lab/1"
    public static let prefix = "nestlab"
    /// The metadata element's name without prefix (what libvirt's metadata API calls the key).
    public static let key = "nestlab"
}
