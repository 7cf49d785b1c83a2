import Foundation
import NestlabCore

public enum NestlabVersion {
    public static let string = "0.1.0"
}
