"""`manage.py evidence_previews [--now] [--failed]`: page images for every evidence PDF that has none (files
uploaded before previews existed), and display copies for pictures whose task was lost. By default they are queued
for the workers (the periodic sweep does the same in batches); `--now` draws them in this process, `--failed` tries
again those that failed (after a fix)."""

from django.core.management.base import BaseCommand

from claims.services.evidence_previews import evidence_preview_render, evidence_previews_due, evidence_previews_queue


class Command(BaseCommand):
    help = "Queue (or, with --now, draw) the page previews of evidence PDFs and pictures' display copies still due."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="Draw the previews in this process.")
        parser.add_argument("--failed", action="store_true", help="Also try again the previews that failed.")

    def handle(self, *args, now: bool, failed: bool, **options):
        if not now:
            queued = evidence_previews_queue(include_failed=failed, limit=None)
            self.stdout.write(f"queued {queued}")
            return
        ids = list(evidence_previews_due(include_failed=failed).values_list("pk", flat=True))
        if failed:
            evidence_previews_due(include_failed=True).filter(pk__in=ids, preview_status="failed").update(
                preview_status="pending", preview_failure="", preview_attempts=0, preview_started_at=None
            )
        counts: dict[str, int] = {}
        for evidence_id in ids:
            status = evidence_preview_render(evidence_id=evidence_id).status or "gone"
            counts[status] = counts.get(status, 0) + 1
        self.stdout.write(" ".join(f"{status} {count}" for status, count in sorted(counts.items())) or "nothing to do")
