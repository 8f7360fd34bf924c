#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How QEMU runs guest code: KVM (hardware virtualisation) or TCG (emulation), or `auto`: KVM when a probe shows
/// it really runs guests, else TCG.
///
/// Why a probe: `/dev/kvm` can open and still be unable to run a guest (nested virtualisation: QEMU stops the
/// guest with an internal error, or the vCPU stalls without a word). The probe boots QEMU's own firmware under KVM
/// with no disk and reads the firmware's debug port: working KVM gets to "Booting from …"/"No bootable device"
/// within a fraction of a second; a stalled or failing one never does.
public enum QemuAccelerator: String, Sendable, CaseIterable {
    case auto, kvm, tcg

    /// The probe's verdict and what it saw, for logs and server details.
    struct ProbeResult: Sendable {
        var usable: Bool
        var reason: String
    }

    /// Whether KVM can run a guest here; takes up to `timeout` (only when it cannot).
    static func probeKVM(qemu: String, scratch: String, timeout: Duration = .seconds(10)) async -> ProbeResult {
        guard access("/dev/kvm", R_OK | W_OK) == 0 else {
            return ProbeResult(usable: false, reason: "/dev/kvm is absent or not accessible")
        }
        let dir = "\(scratch)/kvm-probe-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            return ProbeResult(usable: false, reason: "could not create the probe directory")
        }
        let debug = "\(dir)/firmware.log"
        let argv = [
            qemu, "-accel", "kvm", "-nodefaults", "-nographic", "-m", "32", "-no-reboot", "-monitor", "none",
            "-serial", "none", "-chardev", "file,path=\(debug),id=fw", "-device", "isa-debugcon,iobase=0x402,chardev=fw",
        ]
        let process: GuestProcess
        do {
            process = try await GuestProcess.spawn(argv, outputPath: "\(dir)/qemu.out", scratch: scratch)
        } catch {
            return ProbeResult(usable: false, reason: "QEMU did not start under KVM: \(error)")
        }
        let result = await watch(process, debugLog: debug, output: "\(dir)/qemu.out", timeout: timeout)
        await process.kill()
        return result
    }

    private static func watch(_ process: GuestProcess, debugLog: String, output: String, timeout: Duration) async -> ProbeResult {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            let text = (try? String(contentsOfFile: debugLog, encoding: .utf8)) ?? ""
            if text.contains("Booting from") || text.contains("No bootable device") {
                return ProbeResult(usable: true, reason: "KVM ran the firmware to its boot menu in \(ContinuousClock.now - started)")
            }
            if !process.isRunning {
                let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                return ProbeResult(
                    usable: false, reason: "QEMU exited under KVM: \(HostPaths.redact(String(out.suffix(300))))")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return ProbeResult(usable: false, reason: "KVM did not run the firmware to its boot menu within \(timeout) (stalled vCPU)")
    }
}
