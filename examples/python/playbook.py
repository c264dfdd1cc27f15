"""A SOAR playbook on actioncenter.

An automated investigation of a phishing alert proposes remediation
actions, each with an idempotency key so that a retried run makes no
second action. The policy, stored in the database on first use, lets the
antivirus act at once and makes everything else wait for an analyst. An
executor carries out what is approved, presenting the lease token of each
claim; the analyst approves or rejects what she was shown; then the
quarantined file turns out to be a false positive and is restored on the
instances she confirmed. Finally the SOC lead signs a checkpoint of the
audit trail, and the trail is verified with its public key.

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
    generate_key,
)

POLICY = {
    "roles": {
        # The machines, and the sources they may speak for.
        "automation": {
            "view": ["*"],
            "propose": ["*"],
            "sources": ["automated_investigation", "antivirus"],
        },
        "analyst": {"view": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"]},
        "executor": {"view": ["*"], "execute": ["*"]},
        "admin": {"administer": ["*"]},
    },
    "principals": {
        "air": ["automation"],
        "alice": ["analyst"],
        "edr-agent": ["executor"],
        "soc-lead": ["admin"],
    },
    # The antivirus acts at once; investigations wait for a person.
    "automation": {"default": "semi", "sources": {"antivirus": "full"}},
}

INVOICE_EXE = "5f2b9c4e8a7d6b1c0e3f2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b"


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
            idempotency_key="inv-2041/quarantine/wks-17",
        ),
        center.propose(
            air,
            Kind.ISOLATE_DEVICE,
            Device("wks-17", name="kim-laptop"),
            inv,
            alert_id="alert-7731",
            idempotency_key="inv-2041/isolate/wks-17",
        ),
        center.propose(
            air,
            Kind.STOP_SERVICE,
            Service("wks-17", "UpdaterSvc"),
            inv,
            idempotency_key="inv-2041/stop/UpdaterSvc",
            comment="the service the dropper installed",
        ),
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
        print(f"  proposed {a.kind:<16} {a.entity.describe():<40} -> {a.status}")
    # The investigation retries its first request: the same action comes back.
    again = center.propose(
        air,
        Kind.ISOLATE_DEVICE,
        Device("wks-17", name="kim-laptop"),
        inv,
        alert_id="alert-7731",
        idempotency_key="inv-2041/isolate/wks-17",
    )
    assert again.id == proposals[1].id
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
            undoing = a.status is Status.UNDO_RUNNING
            # A real executor would call the EDR here.
            result: Dict[str, object] = {"undone": True} if undoing else {"ok": True}
            # The claimed action carries its lease token; complete presents it.
            finished = center.complete(agent, a, result)
            print(f"  executed {'undo of ' if undoing else ''}{a.kind} -> {finished.status}")
            done += 1


def main(db: Path) -> int:
    # The policy is stored into a new database; an existing one keeps its own.
    with ActionCenter.open_sqlite(db, Policy.from_dict(POLICY)) as center:
        air = center.principal("air")
        alice = center.principal("alice")
        agent = center.principal("edr-agent")
        lead = center.principal("soc-lead")
        print(f"policy version {center.policy().version}, set by {center.policy().set_by}")

        print("investigation inv-2041 proposes:")
        proposed = investigate(center, air)
        quarantine, isolate, stop_service = proposed[:3]

        print("executor runs what the policy approved at once:")
        execute(center, agent)

        print("analyst works the Pending tab:")
        pending = center.list(alice, status=Status.PENDING)
        assert {a.id for a in pending} == {quarantine.id, isolate.id, stop_service.id}
        for a in pending:
            print(f"  pending {a.kind:<16} from {a.source.describe()}")
        # She approves the two she was shown, at the versions shown.
        shown = [a for a in pending if a.id in (quarantine.id, isolate.id)]
        results = center.bulk(alice, Event.APPROVE, shown, comment="confirmed by sandbox")
        for r in results:
            print(f"  approved {r.action.kind if r.action else r.id} ok={r.ok}")
        (service,) = (a for a in pending if a.id == stop_service.id)
        rejected = center.reject(alice, service, comment="UpdaterSvc is the vendor's updater")
        print(f"  rejected {rejected.kind} -> {rejected.status}")
        try:
            center.approve(alice, stop_service.id)
        except ActionCenterError as e:
            print(f"  (a second look is refused: {type(e).__name__}: {e})")

        print("executor runs the approved actions:")
        execute(center, agent)

        print("invoice.exe was a false positive: restore it everywhere")
        others = center.undo_instances(alice, quarantine.id)
        print(f"  undo applies to {len(others)} more instance(s); alice confirms them")
        report = center.undo(
            alice,
            quarantine.id,
            "false positive: signed vendor invoice tool",
            instances=others,
        )
        assert len(report.instances) == 2 and all(item.ok for item in report.instances)
        execute(center, agent)
        restored = [
            center.get(alice, i) for i in [quarantine.id, *(item.id for item in report.instances)]
        ]
        assert all(a.status is Status.UNDONE for a in restored), restored
        print(f"  {len(restored)} quarantines undone")

        counts = {str(s): n for s, n in center.counts(alice).items() if n}
        print(f"counts: {counts}")
        # The signing key stays outside the database; keep the public key
        # (and an exported checkpoint) wherever the trail is verified.
        private_pem, public_pem = generate_key()
        checkpoint = center.checkpoint(lead, private_pem)
        audit = center.verify_audit(public_key=public_pem, checkpoint=checkpoint.to_json())
        print(
            f"audit: {audit.events_checked} events, {audit.actions_checked} actions, "
            f"checkpoint at event {checkpoint.seq}, intact={audit.intact}, head {audit.head[:12]}"
        )
        return 0 if audit.intact else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp) / "playbook.db"))
