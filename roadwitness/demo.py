"""The main job, end to end on real samples: intake → store → database → queue → worker →
cases awaiting review. The photos and the pan video are reported as a citizen would (declared
"other": the officer gets a ``declared@1`` case per plate read); the composited emergency-lane
clip comes as a dashcam sends it (device, event id, clip start, GPS track, nothing declared) and
is judged with rule data naming its road an expressway: the system finds that violation itself."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.progress import Progress

from cases.services import Services
from ingest.db import Case, Submission
from ingest.migrate import upgrade
from ingest.submissions import Declared
from roadwitness.samples import demo_samples, emergency_lane_sample
from settings import Settings
from workers.jobs import SubmissionProcessor, models_for
from workers.rule_files import load_rules
from workers.runner import run

DEMO_DEVICE = "demo-dashcam-01"


def run_demo(settings: Settings, progress: Progress, console: Console) -> dict[str, Any]:
    upgrade(settings.database_url)
    services = Services.build(settings)
    try:
        models = models_for(services)
        with progress:
            setup = progress.add_task("loading models, making the video samples", total=3)
            samples = demo_samples(settings.samples_dir, settings.data_dir)
            progress.advance(setup)
            dashcam = emergency_lane_sample(settings.samples_dir, settings.data_dir)
            progress.advance(setup)
            models.warm_up()
            progress.advance(setup)
            upload = progress.add_task("submitting samples", total=len(samples) + 1)
            ids: dict[str, str] = {}
            for sample in samples:
                sub = services.intake.accept(
                    sample.path, sample.path.name, Declared(violation="other"), actor="demo"
                )
                ids[sub.id] = str(sample.path)
                progress.advance(upload)
            sent = Declared(
                device_id=DEMO_DEVICE,
                event_id=dashcam.path.stem,
                trigger="automatic",
                clip_start=dashcam.clip_start,
                track=dashcam.track,
            )
            sub = services.intake.accept(dashcam.path, dashcam.path.name, sent, actor="demo")
            ids[sub.id] = str(dashcam.path)
            progress.advance(upload)
            work = progress.add_task("analysing (worker)", total=services.ledger.count_pending())
            run(
                services,
                SubmissionProcessor(services, models, load_rules(dashcam.rules)),
                drain=True,
                on_job=lambda _claim, _state: progress.advance(work),
            )
        labels = {str(s.path): s.plate for s in samples} | {str(dashcam.path): dashcam.plate}
        return _report(services, ids, labels)
    finally:
        services.close()


def _report(
    services: Services, ids: dict[str, str], labels: dict[str, str | None]
) -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    matched: set[str] = set()
    with services.sessions() as session:
        for sub_id, source in ids.items():
            submission = session.get(Submission, sub_id)
            assert submission is not None
            for case in submission.cases:
                cases.append(
                    {
                        "case_id": case.id,
                        "source": source,
                        "status": case.status,
                        "rule": case.rule,
                        "explanation": case.explanation,
                        "plate": case.plate,
                        "plate_confidence": case.plate_confidence,
                        "plate_colour": case.plate_colour or "",
                        "vehicle_class": case.vehicle_class,
                        "t_start": case.t_start,
                        "t_end": case.t_end,
                        "evidence": [e.name for e in case.evidence],
                    }
                )
                if labels.get(source) == case.plate:
                    matched.add(source)
        pending = session.query(Case).filter(Case.status == "candidate").count()
    report = services.settings.data_dir / "demo_report.json"
    summary = {
        "cases": cases,
        "labels": labels,
        "matched": len(matched),
        "labelled": sum(1 for v in labels.values() if v),
        "pending_total": pending,
        "report": str(report),
    }
    report.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
