#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How QEMU runs guest code: KVM (hardware virtualisation) or TCG (emulation), or `auto`: KVM when a probe shows
/// it really runs guests, else TCG.
///
/// Why a probe: `/dev/kvm` can open and still be unable to run a guest (nested virtualisation: QEMU stops the
/// guest with an internal error, or the vCPU stalls without a word). The probe boots the host's own Linux kernel
/// under KVM with no root filesystem: working KVM gets to the kernel's "VFS: Unable to mount root fs" panic in a
/// second or two; a stalled or failing one never does. (Running only the firmware is not enough: on some nested
/// hosts the firmware reaches its boot menu and the kernel then stalls.) Without a readable kernel in /boot the
/// probe falls back to the firmware, reading its debug port for "Booting from …"/"No bootable device".
public enum QemuAccelerator: String, Sendable, CaseIterable {
    case auto, kvm, tcg

    /// The probe's verdict and what it saw, for logs and server details.
    struct ProbeResult: Sendable {
        var usable: Bool
        var reason: String
    }

    /// Whether KVM can run a guest here; takes up to `timeout` (only when it cannot).
    static func probeKVM(qemu: String, scratch: String, timeout: Duration = .seconds(15)) async -> ProbeResult {
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
        let debug = "\(dir)/probe.log"
        var argv = [qemu, "-accel", "kvm", "-nodefaults", "-nographic", "-m", "128", "-no-reboot", "-monitor", "none"]
        let markers: [String]
        if let kernel = hostKernel() {
            argv += [
                "-chardev", "file,path=\(debug),id=con", "-serial", "chardev:con", "-kernel", kernel,
                "-append", "console=ttyS0 panic=-1",
            ]
            markers = ["Unable to mount root", "Kernel panic"]
        } else {
            argv += ["-serial", "none", "-chardev", "file,path=\(debug),id=fw", "-device", "isa-debugcon,iobase=0x402,chardev=fw"]
            markers = ["Booting from", "No bootable device"]
        }
        let process: GuestProcess
        do {
            process = try await GuestProcess.spawn(argv, outputPath: "\(dir)/qemu.out", scratch: scratch)
        } catch {
            return ProbeResult(usable: false, reason: "QEMU did not start under KVM: \(error)")
        }
        let result = await watch(process, debugLog: debug, markers: markers, output: "\(dir)/qemu.out", timeout: timeout)
        await process.kill()
        return result
    }

    /// The newest readable kernel image in /boot.
    static func hostKernel() -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []).filter { $0.hasPrefix("vmlinuz") }
        return names.sorted().reversed().map { "/boot/" + $0 }.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    private static func watch(
        _ process: GuestProcess, debugLog: String, markers: [String], output: String, timeout: Duration
    ) async -> ProbeResult {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            let text = (try? String(contentsOfFile: debugLog, encoding: .utf8)) ?? ""
            if markers.contains(where: text.contains) {
                return ProbeResult(usable: true, reason: "a probe boot under KVM got through in \(ContinuousClock.now - started)")
            }
            if !process.isRunning {
                let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                return ProbeResult(
                    usable: false, reason: "QEMU exited under KVM: \(HostPaths.redact(String(out.suffix(300))))")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return ProbeResult(usable: false, reason: "a probe boot under KVM did not get through within \(timeout) (stalled vCPU)")
    }
}
