import Foundation

/// Rendering or writing a kubeconfig failed.
public enum KubeconfigWriteError: Error, CustomStringConvertible {
    case render(PKIError)
    case write(SecretFileError)

    public var description: String {
        switch self {
        case .render(let error): return "cannot render the kubeconfig: \(error)"
        case .write(let error): return "cannot write the kubeconfig: \(error)"
        }
    }
}
