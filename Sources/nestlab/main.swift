import Foundation; import NestlabCore; print(Placeholder.resource() as Any)
