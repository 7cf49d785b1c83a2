public enum NestlabKitPlaceholder {}
