/// The agent's version, reported by HostService and `--version`.
public enum AgentVersion {
    public static let current = "0.1.0"
}
