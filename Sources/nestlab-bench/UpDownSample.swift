struct UpDownSample {
    var open: Double
    var openCPU: Double
    var up: Double
    var upCPU: Double
    var noop: Double
    var noopCPU: Double
    var down: Double
    var downCPU: Double
}
