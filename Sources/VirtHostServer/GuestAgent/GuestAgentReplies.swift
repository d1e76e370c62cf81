import Foundation
import GRPCCore
import SwiftProtobuf
import VirtHostAPI

// Typed messages from the `return` members of qemu-ga's replies (qga/qapi-schema.json).
// Members the agent leaves out stay at their defaults; a member of the wrong
// type is an INTERNAL error naming the command.

enum GuestAgentReplies {
    static func info(_ value: Any?) throws -> Virthost_V1_AgentInfo {
        guard let object = value as? [String: Any] else { throw GuestAgentJSON.unexpected("guest-info", "object") }
        var info = Virthost_V1_AgentInfo()
        info.version = object["version"] as? String ?? ""
        for command in object["supported_commands"] as? [[String: Any]] ?? [] {
            var entry = Virthost_V1_AgentCommandInfo()
            entry.name = command["name"] as? String ?? ""
            entry.enabled = command["enabled"] as? Bool ?? false
            entry.successResponse = command["success-response"] as? Bool ?? false
            info.commands.append(entry)
        }
        info.commands.sort { $0.name < $1.name }
        return info
    }

    static func osInfo(_ value: Any?) throws -> Virthost_V1_GuestOSInfo {
        guard let object = value as? [String: Any] else { throw GuestAgentJSON.unexpected("guest-get-osinfo", "object") }
        var info = Virthost_V1_GuestOSInfo()
        info.id = object["id"] as? String ?? ""
        info.name = object["name"] as? String ?? ""
        info.prettyName = object["pretty-name"] as? String ?? ""
        info.version = object["version"] as? String ?? ""
        info.versionID = object["version-id"] as? String ?? ""
        info.kernelRelease = object["kernel-release"] as? String ?? ""
        info.kernelVersion = object["kernel-version"] as? String ?? ""
        info.machine = object["machine"] as? String ?? ""
        return info
    }

    static func hostName(_ value: Any?) throws -> Virthost_V1_GuestHostName {
        guard let object = value as? [String: Any], let name = object["host-name"] as? String else {
            throw GuestAgentJSON.unexpected("guest-get-host-name", "host-name")
        }
        return .with { $0.hostName = name }
    }

    static func interfaces(_ value: Any?) throws -> Virthost_V1_GuestInterfaces {
        guard let list = value as? [[String: Any]] else { throw GuestAgentJSON.unexpected("guest-network-get-interfaces", "list") }
        var result = Virthost_V1_GuestInterfaces()
        for item in list {
            var interface = Virthost_V1_GuestInterface()
            interface.name = item["name"] as? String ?? ""
            interface.mac = item["hardware-address"] as? String ?? ""
            for address in item["ip-addresses"] as? [[String: Any]] ?? [] {
                var ip = Virthost_V1_GuestIPAddress()
                ip.type = address["ip-address-type"] as? String ?? ""
                ip.address = address["ip-address"] as? String ?? ""
                ip.prefix = UInt32(clamping: (address["prefix"] as? NSNumber)?.int64Value ?? 0)
                interface.addresses.append(ip)
            }
            result.interfaces.append(interface)
        }
        return result
    }

    static func filesystems(_ value: Any?) throws -> Virthost_V1_GuestFilesystems {
        guard let list = value as? [[String: Any]] else { throw GuestAgentJSON.unexpected("guest-get-fsinfo", "list") }
        var result = Virthost_V1_GuestFilesystems()
        for item in list {
            var fs = Virthost_V1_GuestFilesystem()
            fs.name = item["name"] as? String ?? ""
            fs.mountpoint = item["mountpoint"] as? String ?? ""
            fs.type = item["type"] as? String ?? ""
            fs.usedBytes = (item["used-bytes"] as? NSNumber)?.uint64Value ?? 0
            fs.totalBytes = (item["total-bytes"] as? NSNumber)?.uint64Value ?? 0
            fs.disks = (item["disk"] as? [[String: Any]] ?? []).compactMap { $0["dev"] as? String }
            result.filesystems.append(fs)
        }
        result.filesystems.sort { $0.mountpoint < $1.mountpoint }
        return result
    }

    static func users(_ value: Any?) throws -> Virthost_V1_GuestUsers {
        guard let list = value as? [[String: Any]] else { throw GuestAgentJSON.unexpected("guest-get-users", "list") }
        var result = Virthost_V1_GuestUsers()
        for item in list {
            var user = Virthost_V1_GuestUser()
            user.user = item["user"] as? String ?? ""
            user.domain = item["domain"] as? String ?? ""
            if let login = (item["login-time"] as? NSNumber)?.doubleValue {
                user.loginTime = Google_Protobuf_Timestamp(timeIntervalSince1970: login)
            }
            result.users.append(user)
        }
        return result
    }

    static func time(_ value: Any?) throws -> Virthost_V1_GuestTime {
        guard let number = value as? NSNumber else { throw GuestAgentJSON.unexpected("guest-get-time", "number") }
        let ns = number.int64Value
        var time = Virthost_V1_GuestTime()
        time.time = Google_Protobuf_Timestamp(seconds: ns / 1_000_000_000, nanos: Int32(ns % 1_000_000_000))
        return time
    }

    static func count(_ value: Any?, _ command: String) throws -> Int32 {
        guard let number = value as? NSNumber else { throw GuestAgentJSON.unexpected(command, "count") }
        return Int32(clamping: number.int64Value)
    }

    static func freezeStatus(_ value: Any?) throws -> Virthost_V1_FreezeStatus {
        guard let status = value as? String else { throw GuestAgentJSON.unexpected("guest-fsfreeze-status", "status") }
        return .with { $0.frozen = status == "frozen" }
    }

    /// guest-exec's reply: the process id.
    static func execPID(_ value: Any?) throws -> Int64 {
        guard let object = value as? [String: Any], let pid = (object["pid"] as? NSNumber)?.int64Value else {
            throw GuestAgentJSON.unexpected("guest-exec", "pid")
        }
        return pid
    }

    /// guest-exec-status's reply.
    struct ExecStatus {
        var exited = false
        var exitCode: Int32 = 0
        var signal: Int32 = 0
        var stdout = Data()
        var stderr = Data()
        var stdoutTruncated = false
        var stderrTruncated = false
    }

    static func execStatus(_ value: Any?) throws -> ExecStatus {
        guard let object = value as? [String: Any] else { throw GuestAgentJSON.unexpected("guest-exec-status", "object") }
        var status = ExecStatus()
        status.exited = object["exited"] as? Bool ?? false
        status.exitCode = Int32(clamping: (object["exitcode"] as? NSNumber)?.int64Value ?? 0)
        status.signal = Int32(clamping: (object["signal"] as? NSNumber)?.int64Value ?? 0)
        for (key, keyPath) in [("out-data", \ExecStatus.stdout), ("err-data", \ExecStatus.stderr)] {
            guard let text = object[key] as? String else { continue }
            guard let data = Data(base64Encoded: text) else {
                throw Refusal(.internalError, "the guest agent's \(key) is not base64")
            }
            status[keyPath: keyPath] = data
        }
        status.stdoutTruncated = object["out-truncated"] as? Bool ?? false
        status.stderrTruncated = object["err-truncated"] as? Bool ?? false
        return status
    }
}
