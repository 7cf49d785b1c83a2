public indirect enum XMLContent: Sendable, Hashable {
    case element(XMLElement)
    case text(String)
}
