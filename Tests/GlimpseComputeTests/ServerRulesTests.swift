// The server state machine's rules on their own: the API status of each state pair, which actions each state
// allows (Nova's `check_instance_state`), and what a restart makes of an interrupted task.

import GlimpseCore
import Testing

@testable import GlimpseCompute

@Suite struct ServerRulesTests {
    static func server(
        _ vm: VMState, _ task: TaskState? = nil, power: PowerState = .running, launched: Bool = true
    ) -> ServerRecord {
        ServerRecord(
            id: "s1", name: "web", projectID: "p1", userID: "u1", imageID: "i1",
            flavor: Flavor(id: "1", name: "m1.tiny", ram: 512, vcpus: 1, disk: 1), vmState: vm, taskState: task,
            powerState: power, createdAt: 1, updatedAt: 1, launchedAt: launched ? 1 : nil)
    }

    /// Whether `check` lets the server through (the 409 message is checked where it matters).
    static func allows(_ check: (ServerRecord) throws -> Void, _ s: ServerRecord) -> Bool {
        (try? check(s)) != nil
    }

    @Test func statusFollowsNovasStateMap() {
        let cases: [(VMState, TaskState?, String)] = [
            (.building, .scheduling, "BUILD"), (.building, .spawning, "BUILD"),
            (.active, nil, "ACTIVE"), (.active, .rebooting, "REBOOT"), (.active, .rebootingHard, "HARD_REBOOT"),
            (.active, .poweringOff, "ACTIVE"), (.active, .imageUploading, "ACTIVE"),
            (.stopped, nil, "SHUTOFF"), (.stopped, .poweringOn, "SHUTOFF"),
            (.paused, nil, "PAUSED"), (.suspended, nil, "SUSPENDED"), (.error, nil, "ERROR"), (.error, .deleting, "ERROR"),
        ]
        for (vm, task, want) in cases {
            let got = ServerRules.status(vmState: vm, taskState: task)
            #expect(got == want, "\(vm) / \(String(describing: task))")
        }
        for vm in VMState.allCases {
            #expect(ServerRules.knownStatuses.contains(ServerRules.status(vmState: vm, taskState: nil)))
        }
    }

    @Test func rawValuesAreNovasSpellings() {
        #expect(TaskState.poweringOff.rawValue == "powering-off")
        #expect(TaskState.rebootingHard.rawValue == "rebooting_hard")
        #expect(TaskState.imagePendingUpload.rawValue == "image_pending_upload")
        #expect(VMState.stopped.rawValue == "stopped")
        #expect(PowerState.shutdown.rawValue == 4)
        let stepsAreSnapshotSteps = TaskState.snapshotSteps.allSatisfy { $0.isSnapshotStep }
        #expect(stepsAreSnapshotSteps)
        #expect(!TaskState.deleting.isSnapshotStep && !TaskState.rebooting.isSnapshotStep)
    }

    @Test func stopOnlyFromActiveOrErrorWithoutTask() throws {
        let allowed = VMState.allCases.filter { Self.allows(ServerRules.checkStop, Self.server($0)) }
        #expect(Set(allowed) == [.active, .error])
        #expect(!Self.allows(ServerRules.checkStop, Self.server(.active, .imageSnapshot)))
        #expect(!Self.allows(ServerRules.checkStop, Self.server(.active, .poweringOff)))
        // An error server that never launched can still be stopped (Nova: must_have_launched=False).
        #expect(Self.allows(ServerRules.checkStop, Self.server(.error, launched: false)))
        let message = #expect(throws: GlimpseError.self) { try ServerRules.checkStop(Self.server(.stopped)) }
        #expect(message?.message == "Cannot 'stop' instance s1 while it is in vm_state stopped")
        #expect(message?.kind == .conflict)
    }

    @Test func startOnlyFromStoppedAndLaunched() {
        let allowed = VMState.allCases.filter { Self.allows(ServerRules.checkStart, Self.server($0)) }
        #expect(allowed == [.stopped])
        #expect(!Self.allows(ServerRules.checkStart, Self.server(.stopped, launched: false)))
        let busy = #expect(throws: GlimpseError.self) { try ServerRules.checkStart(Self.server(.stopped, .poweringOn)) }
        #expect(busy?.message == "Cannot 'start' instance s1 while it is in task_state powering-on")
    }

    @Test func rebootSoftOnlyWhenActiveHardAlsoReplacesASoftReboot() {
        let soft = VMState.allCases.filter { Self.allows({ try ServerRules.checkReboot($0, hard: false) }, Self.server($0)) }
        let hard = VMState.allCases.filter { Self.allows({ try ServerRules.checkReboot($0, hard: true) }, Self.server($0)) }
        #expect(soft == [.active])
        #expect(Set(hard) == [.active, .stopped, .paused, .suspended, .error])
        #expect(Self.allows({ try ServerRules.checkReboot($0, hard: true) }, Self.server(.active, .rebooting)))
        #expect(Self.allows({ try ServerRules.checkReboot($0, hard: false) }, Self.server(.active, .rebooting)))
        #expect(!Self.allows({ try ServerRules.checkReboot($0, hard: false) }, Self.server(.active, .rebootingHard)))
        #expect(!Self.allows({ try ServerRules.checkReboot($0, hard: true) }, Self.server(.active, .imageUploading)))
    }

    @Test func snapshotFromRunningOrStoppedButNeverDuringAnotherTask() {
        let allowed = VMState.allCases.filter { Self.allows(ServerRules.checkSnapshot, Self.server($0)) }
        #expect(Set(allowed) == [.active, .stopped, .paused, .suspended])
        for step in TaskState.snapshotSteps {
            #expect(!Self.allows(ServerRules.checkSnapshot, Self.server(.active, step)))
        }
        #expect(!Self.allows(ServerRules.checkSnapshot, Self.server(.active, launched: false)))
    }

    @Test func restartCompletesPowerActionsAndFailsInterruptedBuilds() {
        var stopping = Self.server(.active, .poweringOff)
        ServerRules.settleAfterRestart(&stopping, now: 99)
        #expect(stopping.vmState == .stopped && stopping.powerState == .shutdown && stopping.taskState == nil)

        for task in [TaskState.poweringOn, .rebooting, .rebootingHard] {
            var s = Self.server(.stopped, task, power: .shutdown)
            ServerRules.settleAfterRestart(&s, now: 99)
            #expect(s.vmState == .active && s.powerState == .running && s.taskState == nil, "\(task)")
        }

        var building = Self.server(.building, .spawning, power: .noState, launched: false)
        ServerRules.settleAfterRestart(&building, now: 99)
        #expect(building.vmState == .error && building.taskState == nil && building.faultCode == 500)
        #expect(building.faultAt == 99)
        #expect(building.faultMessage == "Build of instance s1 was interrupted by a restart of Glimpse.")

        var snapshotting = Self.server(.active, .imageUploading)
        snapshotting.snapshotImageID = "img"
        ServerRules.settleAfterRestart(&snapshotting, now: 99)
        #expect(snapshotting.taskState == nil && snapshotting.snapshotImageID == nil && snapshotting.vmState == .active)

        var deleting = Self.server(.stopped, .deleting, power: .shutdown)
        ServerRules.settleAfterRestart(&deleting, now: 99)
        #expect(deleting.taskState == .deleting && deleting.vmState == .stopped)

        var idle = Self.server(.active)
        ServerRules.settleAfterRestart(&idle, now: 99)
        #expect(idle == Self.server(.active))
    }

    @Test func truthyImagePropertiesAsOslo() {
        for yes in ["yes", "True", "1", "on", "Y", "t"] { #expect(ServerRules.isTrue(yes), "\(yes)") }
        for no in [nil, "", "no", "false", "0", "off", "2", "yess"] { #expect(!ServerRules.isTrue(no), "\(String(describing: no))") }
    }
}
