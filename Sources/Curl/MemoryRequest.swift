import CCurl
import Foundation

/// A request whose response is read into memory, run on a transfer thread.
enum MemoryRequest {
    enum Method: Sendable {
        case get
        case post(Data)
    }

    struct Response: Sendable {
        var status: Int
        var headers: [HTTPHeader]
        var body: Data
    }

    static func perform(
        url: String, method: Method, settings: RequestSettings, headers: [String] = [],
        limit: Int, flag: CancellationFlag
    ) -> Result<Response, CurlError> {
        do {
            let handle = try EasyHandle()
            try handle.configure(url: url, settings: settings)
            if !headers.isEmpty { try handle.setHeaders(headers) }
            let sink = MemorySink(limit: limit)
            let state = TransferState(handle: handle, sink: sink, flag: flag, onProgress: nil)
            try state.install()
            let code: CURLcode
            switch method {
            case .get:
                code = handle.perform()
            case .post(let body):
                try handle.set(
                    CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count), name: "CURLOPT_POSTFIELDSIZE_LARGE")
                // COPYPOSTFIELDS copies the body, so it need not outlive this call. An empty
                // body still needs a valid pointer, hence the one NUL byte.
                var bytes = [UInt8](body)
                if bytes.isEmpty { bytes = [0] }
                let set: Result<Void, CurlError> = bytes.withUnsafeMutableBytes { raw in
                    Result { () throws(CurlError) in
                        try handle.set(CURLOPT_COPYPOSTFIELDS, pointer: raw.baseAddress, name: "CURLOPT_COPYPOSTFIELDS")
                    }
                }
                try set.get()
                code = handle.perform()
            }
            if sink.overflowed { return .failure(.responseTooLarge(url: url, limit: limit)) }
            let status = handle.responseCode
            guard code == CURLE_OK else {
                return .failure(
                    .transfer(
                        TransferFailure.classify(
                            code: code, detail: handle.errorDetail, url: url, status: status > 0 ? status : nil,
                            tls: settings.tls, handshakeCompleted: handle.tlsHandshakeCompleted)))
            }
            return .success(Response(status: status, headers: state.headers, body: sink.body))
        } catch {
            return .failure(error)
        }
    }
}
