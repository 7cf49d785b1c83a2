import CCurl

/// One-time process-wide libcurl setup.
///
/// `curl_global_init` is not thread-safe and must finish before the first easy handle is
/// made; a lazily initialised static gives exactly-once semantics under Swift's runtime
/// (the same trick corelibs-foundation uses). It is never cleaned up: the process keeps
/// libcurl for its whole life.
enum CurlGlobal {
    private static let initCode: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Initializes libcurl on first use; throws if libcurl could not initialise.
    static func ensureInitialized() throws(CurlError) {
        let code = initCode
        guard code == CURLE_OK else {
            throw .initialization(code: Int(code.rawValue), message: CurlGlobal.message(for: code))
        }
    }

    /// `curl_easy_strerror` text for a code.
    static func message(for code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "unknown curl error" }
        return String(cString: text)
    }

    /// The linked libcurl's version string, for diagnostics.
    static var version: String {
        guard let text = curl_version() else { return "libcurl" }
        return String(cString: text)
    }
}
