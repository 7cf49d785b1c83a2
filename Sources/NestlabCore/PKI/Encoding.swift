import Foundation

/// Lower-case hex of `bytes`, as kubeadm and `sha256sum` print digests.
func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Base64 of `bytes` broken into lines of `width` characters, each ending in a newline.
func wrappedBase64<Bytes: Sequence>(_ bytes: Bytes, width: Int) -> String where Bytes.Element == UInt8 {
    let encoded = Array(Data(bytes).base64EncodedString().utf8)
    var out = ""
    var start = 0
    while start < encoded.count {
        let end = min(start + width, encoded.count)
        out += String(decoding: encoded[start..<end], as: UTF8.self) + "\n"
        start = end
    }
    return out
}
