import VirtHostCLI

/// Entry point of the `virthost` CLI; the commands live in VirtHostCLI.
@main
enum VirtHost {
    static func main() async {
        await VirtHostCommand.main()
    }
}
