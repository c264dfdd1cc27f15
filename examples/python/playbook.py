"""A SOAR playbook on actioncenter.

An automated investigation of a phishing alert proposes remediation
actions. The policy lets the antivirus act at once and makes everything
else wait for an analyst. An executor carries out what is approved; the
analyst approves or rejects what waits; then the quarantined file turns
out to be a false positive and is restored on every device at once.
Finally the audit trail is verified.

    python examples/python/playbook.py [DATABASE]

Without DATABASE the playbook uses a fresh SQLite file in a temporary
folder.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from actioncenter import (
    Action,
    ActionCenter,
    ActionCenterError,
    Antivirus,
    AutomatedInvestigation,
    Device,
    Event,
    File,
    Kind,
    Policy,
    Principal,
    Service,
    Status,
    Url,
)

POLICY = {
    "roles": {
        "automation": {"view": ["*"], "propose": ["*"]},
        "analyst": {"view": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"]},
        "executor": {"view": ["*"], "execute": ["*"]},
    },
    "principals": {"air": ["automation"], "alice": ["analyst"], "edr-agent": ["executor"]},
    # The antivirus acts at once; investigations wait for a person.
    "automation": {"default": "semi", "sources": {"antivirus": "full"}},
}

INVOICE_EXE = "5f2b9c4e8a7d6b1c0e3f2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b"


def principal(policy: Policy, id: str) -> Principal:
    found = policy.principal(id)
    if found is None:
        raise SystemExit(f"the policy names no principal {id!r}")
    return found


def investigate(center: ActionCenter, air: Principal) -> List[Action]:
    """What the automated investigation of alert 7731 proposes."""
    inv = AutomatedInvestigation("inv-2041")
    proposals = [
        center.propose(
            air,
            Kind.QUARANTINE_FILE,
            File(
                sha256=INVOICE_EXE,
                path="C:\\Users\\kim\\Downloads\\invoice.exe",
                device_id="wks-17",
            ),
            inv,
            alert_id="alert-7731",
            parameters={"verdict": "malicious", "detections": 3},
        ),
        center.propose(
            air,
            Kind.ISOLATE_DEVICE,
            Device("wks-17", name="kim-laptop"),
            inv,
            alert_id="alert-7731",
        ),
        center.propose(air, Kind.STOP_SERVICE, Service("wks-17", "UpdaterSvc"), inv),
        # The antivirus found the same file on two more devices and acted at once.
        center.propose(
            air,
            Kind.QUARANTINE_FILE,
            File(sha256=INVOICE_EXE, path="C:\\Temp\\invoice.exe", device_id="wks-22"),
            Antivirus(),
        ),
        center.propose(
            air,
            Kind.QUARANTINE_FILE,
            File(sha256=INVOICE_EXE, path="D:\\mail\\invoice.exe", device_id="srv-03"),
            Antivirus(),
        ),
        center.propose(air, Kind.BLOCK_URL, Url("http://invoices.example/dl"), Antivirus()),
    ]
    for a in proposals:
        where = getattr(a.entity, "device_id", "")
        print(f"  proposed {a.kind:<16} {where:<7} -> {a.status}")
    return proposals


def execute(center: ActionCenter, agent: Principal) -> int:
    """The executor: claims whatever is approved (or being undone) and
    reports back."""
    done = 0
    while True:
        batch = center.claim(agent, limit=10)
        if not batch:
            return done
        for a in batch:
            undoing = a.status is Status.UNDOING
            # A real executor would call the EDR here.
            result: Dict[str, object] = {"undone": True} if undoing else {"ok": True}
            finished = center.complete(agent, a.id, result)
            print(f"  executed {'undo of ' if undoing else ''}{a.kind} -> {finished.status}")
            done += 1


def main(db: Path) -> int:
    policy = Policy.from_dict(POLICY)
    with ActionCenter.open_sqlite(db, policy) as center:
        air = principal(policy, "air")
        alice = principal(policy, "alice")
        agent = principal(policy, "edr-agent")

        print("investigation inv-2041 proposes:")
        proposed = investigate(center, air)
        quarantine, isolate, stop_service = proposed[:3]

        print("executor runs what the policy approved at once:")
        execute(center, agent)

        print("analyst works the Pending tab:")
        pending = center.list(alice, status=Status.PENDING)
        assert {a.id for a in pending} == {quarantine.id, isolate.id, stop_service.id}
        results = center.bulk(
            alice, Event.APPROVE, [quarantine.id, isolate.id], comment="confirmed by sandbox"
        )
        for r in results:
            print(f"  approved {r.action.kind if r.action else r.id} ok={r.ok}")
        rejected = center.reject(
            alice, stop_service.id, comment="UpdaterSvc is the vendor's updater"
        )
        print(f"  rejected {rejected.kind} -> {rejected.status}")
        try:
            center.approve(alice, stop_service.id)
        except ActionCenterError as e:
            print(f"  (a second look is refused: {type(e).__name__}: {e})")

        print("executor runs the approved actions:")
        execute(center, agent)

        print("invoice.exe was a false positive: restore it everywhere")
        others = center.undo_instances(alice, quarantine.id)
        print(f"  undo applies to {len(others)} more instance(s)")
        report = center.undo(
            alice,
            quarantine.id,
            comment="false positive: signed vendor invoice tool",
            all_instances=True,
        )
        assert all(item.ok for item in report.instances)
        execute(center, agent)
        restored = [
            center.get(alice, i) for i in [quarantine.id, *(item.id for item in report.instances)]
        ]
        assert all(a.status is Status.UNDONE for a in restored), restored
        print(f"  {len(restored)} quarantines undone")

        counts = {str(s): n for s, n in center.counts(alice).items() if n}
        print(f"counts: {counts}")
        audit = center.verify_audit()
        print(
            f"audit: {audit.events_checked} events, intact={audit.intact}, head {audit.head[:12]}"
        )
        return 0 if audit.intact else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp) / "playbook.db"))
