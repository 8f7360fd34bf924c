// Power-state sync: a guest that stops without being asked (it powered itself off, or its QEMU died) makes its
// server SHUTOFF, as Nova's lifecycle events and `_sync_instance_power_state` do (an ACTIVE instance whose guest
// is found shut down or crashed is stopped: vm_state stopped, power_state shutdown).

import Foundation
import GlimpseCore
import GlimpseStorage

extension ServerService {
    /// Subscribes to the driver's reports of guests that stopped by themselves.
    public func watchGuestLifecycle() async {
        await driver.onUnrequestedStop { [weak self] id, state in
            await self?.guestStoppedByItself(id, state)
        }
    }

    /// Records that server `id`'s guest stopped by itself. Work in flight on the server (a power action, a
    /// snapshot) settles its own state first; the stop is then applied only if the server is still ACTIVE with
    /// no task and the driver still finds the guest stopped (a start in between wins).
    func guestStoppedByItself(_ id: String, _ state: PowerState) async {
        await tasks.waitIdle(id)
        let now = await driver.powerState(of: id)
        guard now == .shutdown || now == .crashed else { return }
        do {
            let s = try await store.updateServer(id: id) {
                guard $0.vmState == VMState.active, $0.taskState == nil else { throw CancellationError() }
                $0.vmState = VMState.stopped
                $0.powerState = .shutdown
                $0.updatedAt = NovaTime.now()
            }
            let how = state == .crashed ? "its QEMU ended unexpectedly" : "the guest powered off"
            logger.notice("server \(s.id) is SHUTOFF: \(how) (power state synchronised)")
        } catch {
            // Not ACTIVE any more, or deleted: nothing to synchronise.
        }
    }
}
