import CCurl
import CCurlShims

/// Owns one libcurl easy handle and its error buffer.
///
/// Not thread-safe: a handle is used by one transfer thread at a time, which is how
/// libcurl requires easy handles to be used.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    /// Backing store for CURLOPT_ERRORBUFFER; libcurl writes a detailed message here
    /// (e.g. "Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused")
    /// that is more useful than `curl_easy_strerror` alone.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Header lists must outlive the transfer, so the handle keeps them.
    private var headerList: UnsafeMutablePointer<curl_slist>?

    init() throws(CurlError) {
        try CurlGlobal.ensureInitialized()
        guard let raw = curl_easy_init() else {
            throw .initialization(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init returned NULL")
        }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        // Register the error buffer first so that even a failing setopt can explain itself.
        _ = nestlab_curl_easy_setopt_ptr(raw, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(raw)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// The text libcurl left in CURLOPT_ERRORBUFFER for the last failure, or "".
    var errorDetail: String {
        errorBuffer[Int(CURL_ERROR_SIZE)] = 0
        return String(cString: errorBuffer).trimmingTrailingNewlines()
    }

    func set(_ option: CURLoption, _ value: Int, name: String) throws(CurlError) {
        try check(nestlab_curl_easy_setopt_long(raw, option, value), name)
    }

    func set(_ option: CURLoption, _ value: Bool, name: String) throws(CurlError) {
        try set(option, value ? 1 : 0, name: name)
    }

    func set(_ option: CURLoption, offset value: Int64, name: String) throws(CurlError) {
        try check(nestlab_curl_easy_setopt_off_t(raw, option, curl_off_t(value)), name)
    }

    func set(_ option: CURLoption, _ value: String?, name: String) throws(CurlError) {
        guard let value else {
            try check(nestlab_curl_easy_setopt_string(raw, option, nil), name)
            return
        }
        // libcurl copies string options, so a temporary C string is enough.
        let code = value.withCString { nestlab_curl_easy_setopt_string(raw, option, $0) }
        try check(code, name)
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?, name: String) throws(CurlError) {
        try check(nestlab_curl_easy_setopt_ptr(raw, option, value), name)
    }

    /// Replaces the request headers (`Name: value` lines).
    func setHeaders(_ lines: [String]) throws(CurlError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw .option(
                    name: "CURLOPT_HTTPHEADER", code: Int(CURLE_OUT_OF_MEMORY.rawValue),
                    message: "curl_slist_append failed")
            }
            list = appended
        }
        try check(nestlab_curl_easy_setopt_slist(raw, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
        if let headerList { curl_slist_free_all(headerList) }
        headerList = list
    }

    func setWriteCallback(_ callback: nestlab_curl_data_callback, userData: UnsafeMutableRawPointer) throws(CurlError) {
        try check(nestlab_curl_easy_setopt_write_callback(raw, callback), "CURLOPT_WRITEFUNCTION")
        try set(CURLOPT_WRITEDATA, pointer: userData, name: "CURLOPT_WRITEDATA")
    }

    func setHeaderCallback(_ callback: nestlab_curl_data_callback, userData: UnsafeMutableRawPointer) throws(CurlError)
    {
        try check(nestlab_curl_easy_setopt_header_callback(raw, callback), "CURLOPT_HEADERFUNCTION")
        try set(CURLOPT_HEADERDATA, pointer: userData, name: "CURLOPT_HEADERDATA")
    }

    func setProgressCallback(_ callback: nestlab_curl_xferinfo_callback, userData: UnsafeMutableRawPointer)
        throws(CurlError)
    {
        try check(nestlab_curl_easy_setopt_xferinfo_callback(raw, callback), "CURLOPT_XFERINFOFUNCTION")
        try set(CURLOPT_XFERINFODATA, pointer: userData, name: "CURLOPT_XFERINFODATA")
        try set(CURLOPT_NOPROGRESS, false, name: "CURLOPT_NOPROGRESS")
    }

    /// Runs the transfer; blocks the calling thread until it ends.
    func perform() -> CURLcode {
        errorBuffer[0] = 0
        return curl_easy_perform(raw)
    }

    /// The last response's HTTP status (0 when no response arrived).
    var responseCode: Int {
        var value = 0
        guard nestlab_curl_easy_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &value) == CURLE_OK else { return 0 }
        return value
    }

    /// The announced body length of the last response, if the server sent one.
    var contentLength: Int64? {
        var value: curl_off_t = -1
        guard nestlab_curl_easy_getinfo_off_t(raw, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &value) == CURLE_OK,
            value >= 0
        else { return nil }
        return Int64(value)
    }

    /// The URL of the last request, after redirects.
    var effectiveURL: String? {
        var value: UnsafePointer<CChar>?
        guard nestlab_curl_easy_getinfo_string(raw, CURLINFO_EFFECTIVE_URL, &value) == CURLE_OK,
            let value
        else { return nil }
        return String(cString: value)
    }

    /// Whether a TLS handshake completed on the last transfer (CURLINFO_APPCONNECT_TIME_T > 0).
    var tlsHandshakeCompleted: Bool {
        var value: curl_off_t = 0
        guard nestlab_curl_easy_getinfo_off_t(raw, CURLINFO_APPCONNECT_TIME_T, &value) == CURLE_OK else { return false }
        return value > 0
    }

    /// Total time of the last transfer in seconds.
    var totalTime: Double {
        var value = 0.0
        guard nestlab_curl_easy_getinfo_double(raw, CURLINFO_TOTAL_TIME, &value) == CURLE_OK else { return 0 }
        return value
    }

    private func check(_ code: CURLcode, _ name: String) throws(CurlError) {
        guard code == CURLE_OK else {
            var message = CurlGlobal.message(for: code)
            let detail = errorDetail
            if !detail.isEmpty { message += ": \(detail)" }
            throw .option(name: name, code: Int(code.rawValue), message: message)
        }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        // "\r\n" is one Character in Swift, so it is tested for explicitly.
        while let last = result.last, last == "\n" || last == "\r" || last == "\r\n" { result.removeLast() }
        return String(result)
    }
}
