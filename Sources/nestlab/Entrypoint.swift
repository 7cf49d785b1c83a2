@main
struct Entrypoint {
    static func main() async {
        await NestlabMain.run()
    }
}
