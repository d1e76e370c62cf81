/// The agent's version, reported by HostService and `--version`.
public enum DaemonVersion {
    public static let current = "0.1.0"
}
